"""RFC 9457 problem+json for every API error.

problem_exception_handler is the one place where an exception becomes a problem
response: the domain errors of config/errors.py (ApplicationError and its subclasses),
Django's ValidationError, ObjectDoesNotExist and Http404, PermissionDenied, a database
that is away (OperationalError, InterfaceError, the database breaker, a lock timeout),
oversized or over-many request parts, and DRF's own APIExceptions. Views do not map
their services' errors.
"""

import logging
from http import HTTPStatus

import psycopg
from django import db
from django.conf import settings
from django.core.exceptions import (
    ObjectDoesNotExist,
    PermissionDenied,
    RequestDataTooBig,
    TooManyFieldsSent,
    TooManyFilesSent,
)
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse, JsonResponse
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import set_rollback

from config.db_router import ReplicaUnavailable
from config.errors import PROBLEM_TYPE_BASE, ApplicationError, DatabaseUnavailable

PROBLEM_CONTENT_TYPE = "application/problem+json"

logger = logging.getLogger(__name__)


def status_code_name(status_code: int) -> str:
    """The problem code of a status without a more specific one: 413 -> its phrase."""
    return HTTPStatus(status_code).phrase.lower().replace(" ", "_")


class ContentTooLarge(exceptions.APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "The request body is too large."
    # The same problem type as an oversized photo and the ASGI body limit's refusal.
    default_code = status_code_name(status.HTTP_413_REQUEST_ENTITY_TOO_LARGE)


def body_too_large_detail(limit: int | None) -> str:
    if limit is None:
        return ContentTooLarge.default_detail
    return f"The request body is larger than {limit:,} bytes."


def problem_body(request, *, status_code: int, detail: str, code: str, errors=None) -> dict:
    body = {
        "type": PROBLEM_TYPE_BASE + code.replace("_", "-"),
        "title": HTTPStatus(status_code).phrase,
        "status": status_code,
        "detail": detail,
        "request_id": getattr(request, "request_id", None),
    }
    if errors is None and status_code == 400:
        # Every 400 names what is wrong (the schema's ValidationProblem), also when it is
        # no single field: a body that is not JSON, too many fields.
        errors = {"non_field_errors": [detail]}
    if errors is not None:
        body["errors"] = errors
    return body


def _flatten_errors(data, prefix="") -> dict[str, list[str]]:
    """Turn DRF's nested error structure into {"field" or "field.sub": [messages]}."""
    flat: dict[str, list[str]] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors" and prefix == "":
                name = "non_field_errors"
            for k, v in _flatten_errors(value, name).items():
                flat.setdefault(k, []).extend(v)
    elif isinstance(data, list):
        if all(not isinstance(item, (dict, list)) for item in data):
            flat[prefix or "non_field_errors"] = [str(item) for item in data]
        else:
            for index, item in enumerate(data):
                for k, v in _flatten_errors(
                    item, f"{prefix}.{index}" if prefix else str(index)
                ).items():
                    flat.setdefault(k, []).extend(v)
    else:
        flat[prefix or "non_field_errors"] = [str(data)]
    return flat


def database_unavailable(exc: db.Error) -> DatabaseUnavailable:
    """The problem of a database that is unreachable, restarting, out of pooled
    connections, timed out or behind its open breaker: a dependency problem the client
    can retry, not a bug."""
    if isinstance(exc.__cause__, psycopg.errors.LockNotAvailable):
        # DB_LOCK_TIMEOUT_MS ran out behind a migration or a long transaction.
        return DatabaseUnavailable("The data is locked by maintenance; retry shortly.")
    return DatabaseUnavailable()


def _application_error_as_api_exception(exc: ApplicationError) -> exceptions.APIException:
    # Rendered by the same code as DRF's exceptions, so a domain error with field errors
    # reads exactly like a ValidationError of its status, and one without like an
    # APIException with its code.
    api_exc: exceptions.APIException
    if exc.errors is not None:
        api_exc = exceptions.ValidationError(exc.errors)
    else:
        api_exc = exceptions.APIException(exc.detail, exc.code)
    api_exc.status_code = int(exc.status)
    api_exc.retry_after = exc.retry_after  # type: ignore[attr-defined]
    api_exc.problem_extensions = exc.extensions  # type: ignore[attr-defined]
    api_exc.problem_title = exc.title  # type: ignore[attr-defined]
    return api_exc


def _as_api_exception(exc: BaseException) -> BaseException:
    """The DRF APIException that renders `exc`, or `exc` itself when unknown (a bug)."""
    if isinstance(exc, (db.OperationalError, db.InterfaceError)):
        logger.warning("Database unavailable during an API request", exc_info=exc)
        exc = database_unavailable(exc)
    if isinstance(exc, ApplicationError):
        return _application_error_as_api_exception(exc)
    if isinstance(exc, (Http404, ObjectDoesNotExist)):
        # Generic on purpose: a hidden row and a missing one read the same.
        return exceptions.NotFound()
    if isinstance(exc, PermissionDenied):
        return exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, DjangoValidationError):
        # Services validate with Django's ValidationError (model rules, full_clean).
        detail = exc.message_dict if hasattr(exc, "error_dict") else exc.messages
        return exceptions.ValidationError(detail)
    if isinstance(exc, RequestDataTooBig):
        # Hostile or mistaken input, not a bug: the access line (a warning) is the log.
        return ContentTooLarge(body_too_large_detail(settings.DATA_UPLOAD_MAX_MEMORY_SIZE))
    if isinstance(exc, (TooManyFieldsSent, TooManyFilesSent)):
        return exceptions.ParseError(str(exc))
    return exc


def problem_exception_handler(exc, context):
    if isinstance(exc, ReplicaUnavailable):
        return None  # DRF re-raises it: config.db_router.replica_read retries on the primary
    request = context.get("request")
    exc = _as_api_exception(exc)

    if not isinstance(exc, exceptions.APIException):
        # Unexpected: log with traceback, answer without one.
        logger.exception("Unhandled error in API view", exc_info=exc)
        set_rollback()
        body = problem_body(
            request,
            status_code=500,
            detail="An unexpected error occurred. Quote the request id when reporting it.",
            code="internal_error",
        )
        return Response(body, status=500, content_type=PROBLEM_CONTENT_TYPE)

    headers = {}
    auth_header = getattr(exc, "auth_header", None)
    if auth_header:
        headers["WWW-Authenticate"] = auth_header
    wait = getattr(exc, "wait", None) or getattr(exc, "retry_after", None)
    if wait is not None:
        headers["Retry-After"] = str(max(1, round(wait)))

    errors = None
    if isinstance(exc, exceptions.ValidationError):
        errors = _flatten_errors(exc.detail)
        detail = "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in errors.items())
        # Field errors that are not a plain 400 (413 too large, 415 unsupported type)
        # keep their own problem type.
        if exc.status_code == status.HTTP_400_BAD_REQUEST:
            code = "validation_error"
        else:
            code = status_code_name(exc.status_code)
    else:
        detail = (
            str(exc.detail) if not isinstance(exc.detail, (dict, list)) else str(exc.default_detail)
        )
        code = exc.default_code if isinstance(exc.default_code, str) else "error"
        codes = exc.get_codes()
        if isinstance(codes, str):
            code = codes

    set_rollback()
    body = problem_body(
        request, status_code=exc.status_code, detail=detail, code=code, errors=errors
    )
    # A domain error may name its problem (ApplicationError.problem_title).
    body["title"] = getattr(exc, "problem_title", None) or body["title"]
    # Extension members never override the standard ones.
    for name, value in (getattr(exc, "problem_extensions", None) or {}).items():
        body.setdefault(name, value)
    return Response(
        body, status=exc.status_code, headers=headers, content_type=PROBLEM_CONTENT_TYPE
    )


def problem_response(request, *, status_code: int, detail: str, code: str) -> JsonResponse:
    return JsonResponse(
        problem_body(request, status_code=status_code, detail=detail, code=code),
        status=status_code,
        content_type=PROBLEM_CONTENT_TYPE,
    )


def _wants_problem(request) -> bool:
    return request.path.startswith("/api/") or request.path in ("/health", "/ready")


@csrf_exempt  # a 404 for every method, never CSRF's HTML 403
def api_not_found(request, *args, **kwargs):
    """The last /api/v1/ route: with DEBUG on, Django's own 404 would be an HTML page."""
    return problem_response(
        request, status_code=404, detail="No API endpoint at this path.", code="not_found"
    )


def handler404(request, exception=None):
    if _wants_problem(request):
        return problem_response(request, status_code=404, detail="Not found.", code="not_found")
    from django.views.defaults import page_not_found

    return page_not_found(request, exception)


def handler500(request):
    if _wants_problem(request):
        return problem_response(
            request,
            status_code=500,
            detail="An unexpected error occurred. Quote the request id when reporting it.",
            code="internal_error",
        )
    from django.views.defaults import server_error

    return server_error(request)


def handler400(request, exception=None):
    # Django sends RequestDataTooBig here from views outside DRF (the admin); under
    # uvicorn config.body_limit refuses such bodies before they reach Django at all.
    if isinstance(exception, RequestDataTooBig):
        detail = body_too_large_detail(settings.DATA_UPLOAD_MAX_MEMORY_SIZE)
        if _wants_problem(request):
            return problem_response(
                request, status_code=413, detail=detail, code=ContentTooLarge.default_code
            )
        return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
    if _wants_problem(request):
        return problem_response(request, status_code=400, detail="Bad request.", code="bad_request")
    from django.views.defaults import bad_request

    return bad_request(request, exception)


def handler403(request, exception=None):
    if _wants_problem(request):
        return problem_response(
            request, status_code=403, detail="Permission denied.", code="permission_denied"
        )
    from django.views.defaults import permission_denied

    return permission_denied(request, exception)
