"""A view raising, by name, each kind of error the problem handler maps; included only
by tests/config/test_errors.py."""

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection
from django.http import Http404
from django.urls import include, path
from rest_framework import exceptions, status
from rest_framework.views import APIView

from config import errors


class UsernameTaken(errors.ApplicationError):
    field = "username"
    default_detail = "This username is already taken."


class UnsupportedImageType(errors.ApplicationError):
    status = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"
    field = "file"


class StorageDown(errors.DependencyUnavailable):
    default_detail = "Photo storage is unavailable; retry later."


class UnsupportedImageFile(exceptions.ValidationError):
    status_code = status.HTTP_415_UNSUPPORTED_MEDIA_TYPE


# Plain DRF APIExceptions, as a library's view might raise them: the handler must give
# the same bodies as the vocabulary's errors.
class Conflict(exceptions.APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with the current state of the resource."
    default_code = "conflict"


class UnprocessableEntity(exceptions.APIException):
    status_code = status.HTTP_422_UNPROCESSABLE_ENTITY
    default_detail = "The request cannot be processed."
    default_code = "unprocessable"


class ServiceUnavailable(exceptions.APIException):
    status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    default_detail = "A service Placemap depends on is unavailable; retry later."
    default_code = "service_unavailable"

    def __init__(self, detail=None, *, retry_after: int = 5):
        super().__init__(detail)
        self.retry_after = retry_after


def _missing_user():
    get_user_model().objects.get(pk=-1)


def _lock_wait(key: int):
    def run():
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL lock_timeout = 50")
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [key])

    return run


def _raise(exc):
    def run():
        raise exc

    return run


RAISERS = {
    # The domain errors (config/errors.py) ...
    "not_found": _raise(errors.NotFoundError()),
    "conflict": _raise(errors.ConflictError("Already approved.")),
    "unprocessable": _raise(errors.UnprocessableError()),
    "gone": _raise(errors.GoneError("This export has expired.")),
    "dependency": _raise(errors.DependencyUnavailable()),
    "dependency_retry_7": _raise(StorageDown(retry_after=7)),
    "database": _raise(errors.DatabaseUnavailable()),
    "field": _raise(UsernameTaken()),
    "field_415": _raise(UnsupportedImageType("Send a JPEG, PNG or WebP image.")),
    "errors": _raise(
        errors.ApplicationError(errors={"reason_code": ["Unknown reason."], "note": "Too long."})
    ),
    # ... Django's ...
    "does_not_exist": _missing_user,
    "http404": _raise(Http404("No such place.")),
    "django_validation": _raise(DjangoValidationError({"name": ["Give the place a name."]})),
    "django_validation_plain": _raise(DjangoValidationError("Out of range.")),
    "django_permission": _raise(DjangoPermissionDenied("Only moderators decide on places.")),
    # ... and what the views raised before the vocabulary, to compare bodies with.
    "drf_not_found": _raise(exceptions.NotFound()),
    "drf_conflict": _raise(Conflict("Already approved.")),
    "drf_unprocessable": _raise(UnprocessableEntity()),
    "drf_service_unavailable": _raise(ServiceUnavailable()),
    "drf_service_unavailable_7": _raise(
        ServiceUnavailable("Photo storage is unavailable; retry later.", retry_after=7)
    ),
    "drf_field": _raise(
        exceptions.ValidationError({"username": ["This username is already taken."]})
    ),
    "drf_field_415": _raise(UnsupportedImageFile({"file": ["Send a JPEG, PNG or WebP image."]})),
    "drf_errors": _raise(
        exceptions.ValidationError({"reason_code": ["Unknown reason."], "note": ["Too long."]})
    ),
    "drf_validation": _raise(exceptions.ValidationError({"name": ["Give the place a name."]})),
    "drf_permission": _raise(exceptions.PermissionDenied("Only moderators decide on places.")),
}


class RaisingView(APIView):
    authentication_classes = []
    permission_classes = []

    def get(self, request, name):
        if name.startswith("lock_"):
            _lock_wait(int(name.removeprefix("lock_")))()
            raise AssertionError("the lock was granted")
        RAISERS[name]()
        raise AssertionError(f"{name} did not raise")


urlpatterns = [
    path("api/v1/test/raise/<str:name>", RaisingView.as_view()),
    path("", include("config.urls")),
]
