"""Request id, and the fields of django-structlog's access line.

Two middlewares, first in MIDDLEWARE, in this order (tests/config/observability checks it):

1. `RequestIDMiddleware` decides the request's id: the caller's X-Request-ID if it is sane,
   otherwise a fresh one. It overwrites the header in `request.META` with that id, so
   nothing after it (django-structlog included) ever sees an insane value, and echoes it.
2. `django_structlog.middlewares.RequestMiddleware`, with DJANGO_STRUCTLOG_TRUST_UPSTREAM_
   REQUEST_ID on, binds that id to every log line of the request (and the user id to its
   last lines) and writes `request_started` (DEBUG) and `request_finished` /
   `request_failed` (see docs/observability.md).

The receivers below shape those lines: `method`, `path`, `query`, `status` and
`duration_ms` instead of django-structlog's `request` ("GET /path?query") and `code`; and a
streamed response is logged once, when its last byte has gone, instead of when its headers
are ready (plus `streaming_finished`). They are connected when this module is imported,
which Django does when it builds the middleware chain, before the first request.
"""

import logging
import re
import time
import uuid
from typing import Any

import structlog
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponseBase
from django_structlog import signals as django_structlog_signals
from django_structlog.app_settings import app_settings as django_structlog_settings
from opentelemetry import trace

from config.logging import SUPERSEDED_EVENT

REQUEST_ID_HEADER = "X-Request-ID"
REQUEST_ID_META_KEY = "HTTP_X_REQUEST_ID"
# An incoming id is trusted only if it cannot smuggle anything into logs or headers.
SANE_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,128}$")
REQUEST_ID_SPAN_ATTRIBUTE = "placemap.request_id"

# Set on the request when django-structlog starts with it (duration_ms counts from there).
_STARTED_AT = "_placemap_started_at"


def request_id_from(incoming: str | None) -> str:
    if incoming and SANE_REQUEST_ID.fullmatch(incoming):
        return incoming
    return uuid.uuid4().hex


class RequestIDMiddleware:
    """Give every request an id (the caller's if sane), hand it to django-structlog through
    the request header, put it on the trace, and echo it on the response."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.request_id = request_id_from(request.META.get(REQUEST_ID_META_KEY))
        # django-structlog reads the id from request.headers: rewrite the header it is
        # built from, and drop the copy cached if anything read the headers already.
        request.META[REQUEST_ID_META_KEY] = request.request_id
        request.__dict__.pop("headers", None)
        # A worker thread serves many requests: start from a clean context every time.
        structlog.contextvars.clear_contextvars()
        # The Django instrumentation's middleware runs first, so this is the request span.
        span = trace.get_current_span()
        if span.is_recording():
            span.set_attribute(REQUEST_ID_SPAN_ATTRIBUTE, request.request_id)
        try:
            response = self.get_response(request)
            response[REQUEST_ID_HEADER] = request.request_id
            return response
        finally:
            structlog.contextvars.clear_contextvars()


def _request_fields(request: HttpRequest) -> dict[str, Any]:
    fields: dict[str, Any] = {"method": request.method, "path": request.path}
    if request.META.get("QUERY_STRING"):
        # Secret-looking parameters are masked by the redacting log processor.
        fields["query"] = request.META["QUERY_STRING"]
    return fields


def _replace_request_with_fields(request: HttpRequest, log_kwargs: dict) -> None:
    # django-structlog's "GET /path?query" becomes separate, queryable fields.
    log_kwargs.pop("request", None)
    if "code" in log_kwargs:
        log_kwargs["status"] = log_kwargs.pop("code")
    log_kwargs.update(_request_fields(request))
    started = getattr(request, _STARTED_AT, None)
    if started is not None:
        log_kwargs["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)


@receiver(django_structlog_signals.bind_extra_request_metadata, dispatch_uid="placemap.started")
def shape_request_started(request: HttpRequest, log_kwargs: dict, **kwargs) -> None:
    setattr(request, _STARTED_AT, time.perf_counter())
    log_kwargs.pop("request", None)
    log_kwargs.update(_request_fields(request))


@receiver(
    django_structlog_signals.bind_extra_request_failed_metadata, dispatch_uid="placemap.failed"
)
def shape_request_failed(request: HttpRequest, log_kwargs: dict, **kwargs) -> None:
    # An exception no view handled (DRF views answer their own with a 500 problem and
    # end in request_finished): this line, with its traceback, is the access line.
    _replace_request_with_fields(request, log_kwargs)


@receiver(
    django_structlog_signals.bind_extra_request_finished_metadata,
    dispatch_uid="placemap.finished",
)
def shape_request_finished(
    request: HttpRequest, logger, response: HttpResponseBase, log_kwargs: dict, **kwargs
) -> None:
    _replace_request_with_fields(request, log_kwargs)
    if not response.streaming:
        return
    # Exports stream for a long time: the access line waits for the last byte, so its
    # duration covers the download. This line (headers ready) is dropped by the logging
    # pipeline, and so is django-structlog's streaming_finished, which the deferred line
    # replaces. Wrapped before django-structlog wraps the content, so the deferred line
    # comes before its streaming_failed/streaming_cancelled, if any.
    deferred = {**log_kwargs, "streamed": True}
    log_kwargs[SUPERSEDED_EVENT] = True
    _log_when_streamed(request, response, logger, deferred)


def level_for_status(status: int) -> int:
    """The level django-structlog gives request_finished, for the deferred line."""
    match status // 100:
        case 2:
            return django_structlog_settings.STATUS_2XX_LOG_LEVEL
        case 4:
            return django_structlog_settings.STATUS_4XX_LOG_LEVEL
        case 5:
            return django_structlog_settings.STATUS_5XX_LOG_LEVEL
        case _:
            return django_structlog_settings.STATUS_DEFAULT_LOG_LEVEL


def _log_when_streamed(request: HttpRequest, response, logger, fields: dict) -> None:
    context = structlog.contextvars.get_contextvars()
    content = response.streaming_content
    started = getattr(request, _STARTED_AT, time.perf_counter())

    def finish(*, completed: bool) -> None:
        duration_ms = round((time.perf_counter() - started) * 1000, 1)
        level = level_for_status(response.status_code) if completed else logging.WARNING
        # The stream runs after the middlewares have cleared the request's context.
        with structlog.contextvars.bound_contextvars(**context):
            logger.log(
                level,
                "request_finished",
                **{**fields, "duration_ms": duration_ms, "stream_completed": completed},
            )

    if response.is_async:

        async def wrapped_async():
            completed = False
            try:
                async for chunk in content:
                    yield chunk
                completed = True
            finally:
                finish(completed=completed)

        response.streaming_content = wrapped_async()
    else:

        def wrapped():
            completed = False
            try:
                yield from content
                completed = True
            finally:
                finish(completed=completed)

        response.streaming_content = wrapped()
