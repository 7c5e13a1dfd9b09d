"""The refusals of the places API, in the one error vocabulary (config/errors.py): the
problem+json handler answers them; no view maps them itself."""

from http import HTTPStatus

from django.conf import settings

from config.errors import ApplicationError, DatabaseUnavailable, NotFoundError


class LocationNotFound(NotFoundError):
    """Unknown, or not visible to the caller: the two read alike."""

    default_detail = "No such place."


class NotYourPlace(ApplicationError):
    status = HTTPStatus.FORBIDDEN
    code = "permission_denied"
    default_detail = "Only the submitter or a moderator may change this place."


class MapUnavailable(DatabaseUnavailable):
    """A public read of the map timed out (PLACES_STATEMENT_TIMEOUT_MS) or could not
    reach the database, and no stale copy could stand in for it."""

    default_detail = "The map database is busy or unavailable; retry shortly."

    def __init__(self, detail: str | None = None, **kwargs):
        kwargs.setdefault("retry_after", settings.PLACES_RETRY_AFTER_SECONDS)
        super().__init__(detail, **kwargs)
