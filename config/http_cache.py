"""HTTP caching of /api/ answers: strong ETags, If-None-Match -> 304, Cache-Control.

A view opts in with `@public_read` (on an APIView class or a view function). Its 200
answers to GET and HEAD then get:
- a strong `ETag`: a hash of the body, with its Content-Language (config.languages) and
  the content coding config.compression will apply appended (`"<hash>-de-br"`,
  `"<hash>-gzip"`), since each language and each encoding is a different representation; an `If-None-Match` naming it is answered 304 without a body (and
  without compressing anything);
- `Cache-Control: public, max-age=PUBLIC_READ_MAX_AGE` when the request carries no
  credentials (no Authorization header, no session cookie): browsers and CDNs may keep it;
- with credentials, what the view declared: `private, max-age=...` for answers that are
  the same for everyone (search, viewport, categories: only the caller's own cache may
  keep them) or `private, no-store` for those that may show the caller more (a place's
  detail shows its owner and moderators a pending place).

Everything else under /api/ (writes, errors, own places, moderation, /me, auth, a stale
fallback copy marked X-Cache-Stale) is `private, no-store`, unless the view set its
own Cache-Control. Paths outside /api/ are left alone (the admin sets its own).

Innermost middleware: it sees the rendered body before compression and before the
session, CORS and deprecation middlewares add their headers around it.
"""

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import get_conditional_response, patch_vary_headers
from django.utils.functional import SimpleLazyObject

from config import compression

ATTRIBUTE = "http_cache_policy"
# Set on a stale fallback copy (locations.api.fallback): never cacheable, never a 304.
STALE_HEADER = "X-Cache-Stale"
NO_STORE = "private, no-store"
PRIVATE_REUSABLE = "private"  # + max-age
UNCACHEABLE_WITH_CREDENTIALS = "no-store"


@dataclass(frozen=True)
class ReadPolicy:
    with_credentials: str
    max_age_setting: str


def public_read(
    view: Any = None,
    *,
    with_credentials: str = PRIVATE_REUSABLE,
    max_age_setting: str = "PUBLIC_READ_MAX_AGE",
) -> Any:
    """Mark a view as a public read. `with_credentials`: "private" (the answer does not
    depend on the caller) or "no-store" (it may show the caller something others don't
    see). `max_age_setting`: the setting holding its max-age (tiles: TILE_MAX_AGE)."""
    if with_credentials not in (PRIVATE_REUSABLE, UNCACHEABLE_WITH_CREDENTIALS):
        raise ValueError(f"with_credentials={with_credentials!r}")
    policy = ReadPolicy(with_credentials, max_age_setting)

    def mark(target: Any) -> Any:
        setattr(target, ATTRIBUTE, policy)
        return target

    return mark(view) if view is not None else mark


def _policy(view_func: Callable) -> ReadPolicy | None:
    policy = getattr(view_func, ATTRIBUTE, None)
    if policy is None:
        policy = getattr(getattr(view_func, "view_class", None), ATTRIBUTE, None)
    return policy


def has_credentials(request: HttpRequest) -> bool:
    """The request came with a token or a session cookie, or its view authenticated it
    (DRF replaces the middleware's lazy user; the lazy one is never evaluated here, as
    that would load the session)."""
    if "HTTP_AUTHORIZATION" in request.META or settings.SESSION_COOKIE_NAME in request.COOKIES:
        return True
    user = request.__dict__.get("user")
    return type(user) is not SimpleLazyObject and bool(getattr(user, "is_authenticated", False))


def strong_etag(request: HttpRequest, response: HttpResponseBase) -> str:
    digest = hashlib.sha256(response.content).hexdigest()[:40]  # type: ignore[attr-defined]
    # An answer in a language chosen from Accept-Language (config.languages) is another
    # representation in each language, even where the bytes happen to agree.
    if language := response.get("Content-Language"):
        digest = f"{digest}-{language}"
    coding = compression.coding_for(request, response)
    return f'"{digest}-{coding}"' if coding else f'"{digest}"'


class HttpCacheMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        api = request.path == "/api" or request.path.startswith("/api/")
        if not api or response.has_header("Cache-Control"):
            return response
        policy: ReadPolicy | None = getattr(request, "_http_cache_policy", None)
        cacheable = (
            request.method in ("GET", "HEAD")
            and response.status_code in (200, 204)  # 204: an empty tile
            and not response.streaming
            and not response.has_header(STALE_HEADER)
        )
        if policy is None or not cacheable:
            response["Cache-Control"] = NO_STORE
            return response
        max_age = getattr(settings, policy.max_age_setting)
        if not has_credentials(request):
            response["Cache-Control"] = f"public, max-age={max_age}"
        elif policy.with_credentials == PRIVATE_REUSABLE:
            response["Cache-Control"] = f"private, max-age={max_age}"
        else:
            response["Cache-Control"] = NO_STORE
        if compression.compressible(request, response):
            patch_vary_headers(response, ("Accept-Encoding",))
        if not response.has_header("ETag"):  # a view may have hashed it already (tiles)
            response["ETag"] = strong_etag(request, response)
        # 304 (GET and HEAD) with the ETag, Cache-Control and Vary of the full answer.
        return get_conditional_response(request, etag=response["ETag"], response=response)

    def process_view(self, request, view_func, view_args, view_kwargs):
        request._http_cache_policy = _policy(view_func)
