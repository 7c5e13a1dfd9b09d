"""GET /api/v1/: an index of the API's resources, with absolute links, for people and
clients that start from the root (and the docs and schema URLs).

Routes are named here by their URL names in config/api_router.py (strings, not imports);
a route with a parameter is shown as a URI template (`.../locations/{id}`, RFC 6570).
"""

from uuid import UUID

from django.urls import NoReverseMatch, reverse
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config.http_cache import public_read

API_VERSION = "v1"
# A UUID no real row has, replaced by the template's `{id}`.
_PLACEHOLDER = UUID(int=0)

# (key, URL name, methods, what it is), in the order of docs/DESIGN's API table.
RESOURCES = (
    ("register", "auth-register", ["POST"], "Create an account."),
    ("token", "auth-token", ["POST", "DELETE"], "Obtain or revoke an API token."),
    ("me", "me", ["GET", "DELETE"], "Your profile; erase your account."),
    ("my_locations", "me-locations", ["GET"], "Your places, in every status."),
    ("my_export", "me-export", ["GET"], "Export of all your data (GDPR)."),
    ("categories", "categories", ["GET"], "Category slugs and labels."),
    ("locations", "locations", ["POST"], "Submit a place."),
    ("locations_search", "locations-search", ["GET"], "Places by radius and text."),
    ("locations_viewport", "locations-viewport", ["GET"], "Places in a bounding box."),
    ("locations_export", "locations-export", ["GET"], "Every approved place, streamed."),
    ("location", "location-detail", ["GET", "PATCH", "DELETE"], "One place."),
    ("image_upload", "image-upload", ["POST"], "Upload a photo."),
    ("image", "image-detail", ["GET", "DELETE"], "One photo."),
    ("moderation_queue", "moderation-queue", ["GET"], "Places awaiting review (moderators)."),
    (
        "moderation_status",
        "moderation-location-status",
        ["PATCH"],
        "Approve or reject a place (moderators).",
    ),
    ("moderation_log", "moderation-location-log", ["GET"], "A place's moderation history."),
)


def _href(request, url_name: str) -> str | None:
    try:
        return request.build_absolute_uri(reverse(f"{API_VERSION}:{url_name}"))
    except NoReverseMatch:
        pass
    try:
        path = reverse(f"{API_VERSION}:{url_name}", kwargs={"id": _PLACEHOLDER})
    except NoReverseMatch:
        return None
    # After build_absolute_uri, which would percent-encode the template's braces.
    return request.build_absolute_uri(path).replace(str(_PLACEHOLDER), "{id}")


@public_read
class ApiRootView(APIView):
    """GET /api/v1/: the resources of version 1 and where the docs are."""

    renderer_classes = [JSONRenderer]
    authentication_classes: list = []
    schema = None  # the index itself is not an operation of the schema

    def get(self, request):
        resources = {}
        for key, url_name, methods, description in RESOURCES:
            href = _href(request, url_name)
            if href is not None:
                resources[key] = {"href": href, "methods": methods, "description": description}
        return Response(
            {
                "version": API_VERSION,
                "links": {
                    "self": request.build_absolute_uri(reverse(f"{API_VERSION}:root")),
                    "schema": request.build_absolute_uri(reverse(f"{API_VERSION}:schema")),
                    "docs": request.build_absolute_uri(reverse("api-docs")),
                    "redoc": request.build_absolute_uri(reverse("api-redoc")),
                },
                "resources": resources,
            }
        )
