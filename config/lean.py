"""A lean path for the hottest anonymous reads, mounted beside Django in the ASGI router.

Why: under ASGI, Django gives every request a new single-thread executor
(asgiref's ThreadSensitiveContext) and crosses between the event loop and that thread at
every middleware boundary (MiddlewareMixin middlewares run their process_request and
process_response through sync_to_async; corsheaders and django-structlog are async), and
DRF's dispatch (authentication, content negotiation, throttles, finalize) comes on top:
for a small answer that costs more than its SQL (docs/benchmarks.md, "Lean read path
(issue 17)").

What: `LeanReads` takes an ASGI HTTP request off Django's path only when `wants()` says
so (GET/HEAD, a path of `routes`, no Authorization header, no session cookie, no
body, an Accept the answer satisfies, LEAN_READS on); anything else goes to Django
unchanged. A taken request is served by `LeanHandler`: Django's own BaseHandler (the
same request object, URL resolution, process_view hooks, exception-to-response
conversion and request_started/finished signals) with

- the middleware of settings.MIDDLEWARE minus those an anonymous API read never uses
  (`SKIPPED_MIDDLEWARE`: sessions, CSRF, authentication, messages, static files), so the
  request id, the access log line, compression, CORS, security headers, deprecation,
  ETag/304/Cache-Control and the OTel span are the very same code as on Django's path;
- a URLconf of plain views that call the same answer functions as the DRF views
  (`drf_read` below gives them DRF's throttles, problem+json errors and headers);
- run all sync, with one hop from the event loop into a reused worker thread (asgiref's
  non-thread-sensitive executor) and one back. Database connections come from Django's
  per-process psycopg pool (DB_POOL_MAX_SIZE bounds them); each request gives its
  connection back at the end, as Django's request_finished does.
"""

import functools
import io
import re
from collections.abc import Callable, Iterable

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signals
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.asgi import ASGIHandler, ASGIRequest, get_script_prefix
from django.core.handlers.base import BaseHandler
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import set_script_prefix, set_urlconf
from django.utils.module_loading import import_string
from rest_framework import exceptions
from rest_framework.renderers import JSONRenderer

from config.exceptions import problem_exception_handler

# Middleware an anonymous read of the public API never needs: no session or user is
# loaded (the request carries neither cookie nor token), no form is posted, no static
# file is served.
SKIPPED_MIDDLEWARE = frozenset(
    {
        "whitenoise.middleware.WhiteNoiseMiddleware",
        "django.contrib.sessions.middleware.SessionMiddleware",
        "django.middleware.csrf.CsrfViewMiddleware",
        "django.contrib.auth.middleware.AuthenticationMiddleware",
        "django.contrib.messages.middleware.MessageMiddleware",
    }
)
# What the lean answers are: a client that accepts none of them goes to Django (406).
LEAN_MEDIA_RANGES = frozenset(
    {"*/*", "application/*", "application/json", "application/geo+json", "application/problem+json"}
)


def lean_middleware() -> list[str]:
    return [path for path in settings.MIDDLEWARE if path not in SKIPPED_MIDDLEWARE]


class LeanHandler(BaseHandler):
    """Django's request handling with the lean middleware list and URLconf, all sync."""

    request_class = ASGIRequest

    def __init__(self, urlconf: str):
        super().__init__()
        self.urlconf = urlconf
        self.load_middleware()

    def load_middleware(self, is_async: bool = False) -> None:
        # BaseHandler.load_middleware's sync branch over lean_middleware().
        self._view_middleware: list = []
        self._template_response_middleware: list = []
        self._exception_middleware: list = []
        handler = convert_exception_to_response(self._get_response)
        for middleware_path in reversed(lean_middleware()):
            middleware = import_string(middleware_path)
            try:
                instance = middleware(handler)
            except MiddlewareNotUsed:
                continue
            if instance is None:
                raise ImproperlyConfigured(f"Middleware factory {middleware_path} returned None.")
            if hasattr(instance, "process_view"):
                self._view_middleware.insert(0, instance.process_view)
            if hasattr(instance, "process_template_response"):
                self._template_response_middleware.append(instance.process_template_response)
            if hasattr(instance, "process_exception"):
                self._exception_middleware.append(instance.process_exception)
            handler = convert_exception_to_response(instance)
        self._middleware_chain = handler

    def serve(self, scope: dict) -> HttpResponseBase:
        """One request, start to end, in the calling (worker) thread."""
        set_script_prefix(get_script_prefix(scope))
        signals.request_started.send(sender=self.__class__, scope=scope)
        # ASGIHandler's: an undecodable path is a 400, as on Django's path.
        request, response = ASGIHandler.create_request(self, scope, io.BytesIO())  # type: ignore[arg-type]
        if request is not None:
            request.urlconf = self.urlconf  # type: ignore[attr-defined]
            # What AuthenticationMiddleware would give a request without credentials.
            request.user = AnonymousUser()  # type: ignore[assignment]
            try:
                response = self.get_response(request)
            finally:
                set_urlconf(None)
        # request_finished (connections back to the pool) in this thread, which holds
        # them; the body is bytes already.
        response.close()
        return response


def _header(scope: dict, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key == name:
            return value
    return None


def _accepts_lean(accept: bytes | None) -> bool:
    if accept is None:
        return True
    for part in accept.decode("latin-1").split(","):
        media, *params = (piece.strip().lower() for piece in part.split(";"))
        refused = any(p.replace(" ", "") in ("q=0", "q=0.0", "q=0.00", "q=0.000") for p in params)
        if media in LEAN_MEDIA_RANGES and not refused:
            return True
    return False


def _has_session_cookie(cookie: bytes | None) -> bool:
    if cookie is None:
        return False
    name = settings.SESSION_COOKIE_NAME.encode("latin-1")
    return any(part.strip().split(b"=", 1)[0] == name for part in cookie.split(b";"))


def wants(scope: dict, routes: re.Pattern) -> bool:
    """Whether the lean path serves this request; False sends it to Django unchanged."""
    if scope["type"] != "http" or scope["method"] not in ("GET", "HEAD"):
        return False
    if not routes.fullmatch(scope["path"]) or not settings.LEAN_READS:
        return False
    if b"format=" in scope.get("query_string", b""):
        return False  # DRF's format override: Django decides
    headers = dict(scope["headers"])
    if b"authorization" in headers or _has_session_cookie(_header(scope, b"cookie")):
        return False
    if headers.get(b"content-length", b"0") != b"0" or b"transfer-encoding" in headers:
        return False
    return _accepts_lean(_header(scope, b"accept"))


async def send_response(response: HttpResponseBase, send: Callable) -> None:
    """ASGIHandler.send_response for a response whose body is bytes."""
    headers = [
        (name.encode("latin-1"), str(value).encode("latin-1")) for name, value in response.items()
    ]
    for cookie in response.cookies.values():
        headers.append((b"Set-Cookie", cookie.output(header="").encode("ascii").strip()))
    await send({"type": "http.response.start", "status": response.status_code, "headers": headers})
    await send({"type": "http.response.body", "body": response.content})  # type: ignore[attr-defined]


class LeanReads:
    """ASGI app: the lean path for `routes` (a regex of paths), Django for the rest."""

    def __init__(self, django_app: Callable, *, routes: Iterable[str], urlconf: str):
        self.django_app = django_app
        self.routes = re.compile("|".join(f"(?:{route})" for route in routes))
        self.urlconf = urlconf
        self._handler: LeanHandler | None = None

    @property
    def handler(self) -> LeanHandler:
        # Built on first use, after the telemetry has inserted its middleware.
        if self._handler is None:
            self._handler = LeanHandler(self.urlconf)
        return self._handler

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if not wants(scope, self.routes):
            await self.django_app(scope, receive, send)
            return
        response = await sync_to_async(self.handler.serve, thread_sensitive=False)(scope)
        await send_response(response, send)


# --- DRF's behaviour for a plain view ---------------------------------------------------
_RENDERER = JSONRenderer()


@functools.cache
def _allow(view_class: type) -> str:
    view = view_class()
    if hasattr(view, "get") and not hasattr(view, "head"):
        view.head = view.get  # type: ignore[attr-defined]  # as View.setup does
    return ", ".join(view.allowed_methods)  # type: ignore[attr-defined]


def drf_read(
    request: HttpRequest, view_class: type, answer: Callable[[], HttpResponseBase]
) -> HttpResponseBase:
    """What DRF's APIView does around a GET handler of `view_class` for an anonymous
    request: its throttles (429 with Retry-After), the problem+json answer of any error
    (config.exceptions, rendered as DRF renders it) and its `Allow` header."""
    try:
        _check_throttles(request, view_class)
        response = answer()
    except Exception as exc:  # the problem handler decides, as in DRF
        problem = problem_exception_handler(exc, {"request": request, "view": None})
        response = HttpResponse(
            _RENDERER.render(problem.data),
            status=problem.status_code,
            content_type=problem.content_type,
        )
        for name, value in problem.items():  # Retry-After; its Content-Type is a default
            if name.lower() != "content-type":
                response[name] = value
    response["Allow"] = _allow(view_class)
    return response


def _check_throttles(request: HttpRequest, view_class: type) -> None:
    # APIView.check_throttles: every throttle counts, the longest wait is reported.
    durations = []
    for throttle_class in view_class.throttle_classes:  # type: ignore[attr-defined]
        throttle = throttle_class()
        if not throttle.allow_request(request, None):
            durations.append(throttle.wait())
    if durations:
        waits = [duration for duration in durations if duration is not None]
        raise exceptions.Throttled(max(waits, default=None))
