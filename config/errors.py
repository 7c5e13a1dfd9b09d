"""The one vocabulary of domain errors.

A service raises an ApplicationError subclass; the problem+json handler
(config/exceptions.py) answers it, so no view maps its services' errors itself. Each
class carries what the problem body needs: an HTTP status, a code (the problem type's
last path segment, "not_found" -> https://placemap.dev/problems/not-found), a default
detail, optionally the field it concerns (or several field errors), extension members
the client can act on (`extensions`, e.g. a conflict's `current_version`) and, for a
dependency that is away, how long the client should wait (Retry-After).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from http import HTTPStatus

PROBLEM_TYPE_BASE = "https://placemap.dev/problems/"


class ApplicationError(Exception):
    """A refusal the client can act on; never a bug.

    With `field` (class attribute) or `errors` the body carries `errors: {field:
    [messages]}` and reads like a validation problem (type validation-error at 400, the
    status' own type otherwise), exactly as a DRF ValidationError with that status."""

    status: int = HTTPStatus.BAD_REQUEST
    code: str = "invalid"
    default_detail: str = "The request is invalid."
    field: str | None = None
    retry_after: int | None = None
    # The problem's `title`; by default the HTTP status phrase.
    problem_title: str | None = None

    def __init__(
        self,
        detail: str | None = None,
        *,
        errors: Mapping[str, Sequence[str] | str] | None = None,
        retry_after: int | None = None,
        extensions: Mapping[str, object] | None = None,
    ) -> None:
        self.detail = str(detail) if detail is not None else self.default_detail
        super().__init__(self.detail)
        # RFC 9457 extension members added to the problem body (e.g. current_version).
        self.extensions: dict[str, object] = dict(extensions or {})
        if errors is not None:
            self.errors: dict[str, list[str]] | None = {
                name: [messages] if isinstance(messages, str) else [str(m) for m in messages]
                for name, messages in errors.items()
            }
        elif self.field is not None:
            self.errors = {self.field: [self.detail]}
        else:
            self.errors = None
        if retry_after is not None:
            self.retry_after = retry_after

    @property
    def title(self) -> str:
        return self.problem_title or HTTPStatus(self.status).phrase

    @property
    def type_uri(self) -> str:
        return PROBLEM_TYPE_BASE + self.code.replace("_", "-")


class NotFoundError(ApplicationError):
    status = HTTPStatus.NOT_FOUND
    code = "not_found"
    default_detail = "Not found."


class ConflictError(ApplicationError):
    status = HTTPStatus.CONFLICT
    code = "conflict"
    default_detail = "The request conflicts with the current state of the resource."


class UnprocessableError(ApplicationError):
    status = HTTPStatus.UNPROCESSABLE_ENTITY
    code = "unprocessable"
    default_detail = "The request cannot be processed."


class GoneError(ApplicationError):
    status = HTTPStatus.GONE
    code = "gone"
    default_detail = "This resource is no longer available."


class DependencyUnavailable(ApplicationError):
    """A dependency (database, Redis, photo storage, a busy pool) is away for a while:
    503 with Retry-After, never a 500."""

    status = HTTPStatus.SERVICE_UNAVAILABLE
    code = "service_unavailable"
    default_detail = "A service Placemap depends on is unavailable; retry later."
    retry_after: int | None = 5


class DatabaseUnavailable(DependencyUnavailable):
    default_detail = "The database is unavailable; retry later."
