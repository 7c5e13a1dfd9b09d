"""Request id and access log: the first middleware, so it sees every request and response."""

import re
import time
import uuid

import structlog
from django.http import HttpRequest, HttpResponseBase
from django.utils.functional import SimpleLazyObject, empty
from opentelemetry import trace

REQUEST_ID_HEADER = "X-Request-ID"
# An incoming id is trusted only if it cannot smuggle anything into logs or headers.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
REQUEST_ID_SPAN_ATTRIBUTE = "placemap.request_id"

access_logger = structlog.get_logger("placemap.access")


def request_id_from(incoming: str | None) -> str:
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


def _user_id(request: HttpRequest) -> int | None:
    user = request.__dict__.get("user")
    # An unevaluated lazy user would cost a session and a user query after the response
    # (and break query-count assertions); DRF stores the real user once it authenticates.
    if user is None or (isinstance(user, SimpleLazyObject) and user._wrapped is empty):
        return None
    return user.pk if getattr(user, "is_authenticated", False) else None


def _level_for(status: int) -> str:
    if status >= 500:
        return "error"
    if status >= 400:
        return "warning"
    return "info"


class RequestIDMiddleware:
    """Give every request an id (the caller's if sane), bind it to every log line and to the
    trace, echo it on the response, and write one access line when the request ends."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        started = time.perf_counter()
        request.request_id = request_id_from(request.headers.get(REQUEST_ID_HEADER))
        # A worker thread serves many requests: start from a clean context every time.
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(request_id=request.request_id)
        # The Django instrumentation's middleware runs first, so this is the request span.
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(REQUEST_ID_SPAN_ATTRIBUTE, request.request_id)
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            if response.streaming:
                # Exports stream for a long time: log when the last byte has gone out.
                _log_when_streamed(request, response, started)
            else:
                log_access(request, response, started=started)
            return response
        finally:
            structlog.contextvars.clear_contextvars()


def log_access(
    request: HttpRequest, response: HttpResponseBase, *, started: float, **extra
) -> None:
    fields = {
        "method": request.method,
        "path": request.path,
        "status": response.status_code,
        "duration_ms": round((time.perf_counter() - started) * 1000, 1),
        "user_id": _user_id(request),
        **extra,
    }
    if request.META.get("QUERY_STRING"):
        # Secret-looking parameters are masked by the redacting log processor.
        fields["query"] = request.META["QUERY_STRING"]
    getattr(access_logger, _level_for(response.status_code))("request_finished", **fields)


def _log_when_streamed(request: HttpRequest, response, started: float) -> None:
    context = structlog.contextvars.get_contextvars()
    content = response.streaming_content

    def finish():
        with structlog.contextvars.bound_contextvars(**context):
            log_access(request, response, started=started, streamed=True)

    if response.is_async:

        async def wrapped_async():
            try:
                async for chunk in content:
                    yield chunk
            finally:
                finish()

        response.streaming_content = wrapped_async()
    else:

        def wrapped():
            try:
                yield from content
            finally:
                finish()

        response.streaming_content = wrapped()
