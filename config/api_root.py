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
# Placeholders no real request uses, replaced by the template's `{name}` (RFC 6570).
_ID = {"id": UUID(int=0)}
_FLAG_ID = {"id": 987654320}
_USER = {"username": "__username__"}
_TILE = {"z": 987654321, "x": 987654322, "y": 987654323}

# (key, URL name, methods, what it is[, path parameters]), in the order of DESIGN's table.
RESOURCES: tuple = (
    ("register", "auth-register", ["POST"], "Create an account."),
    ("token", "auth-token", ["POST", "DELETE"], "Obtain or revoke an API token."),
    ("password_reset", "auth-password-reset", ["POST"], "Mail a password reset link."),
    (
        "password_reset_confirm",
        "auth-password-reset-confirm",
        ["POST"],
        "Set a new password with a reset link.",
    ),
    ("password_change", "auth-password-change", ["POST"], "Change your password."),
    (
        "email_verify",
        "auth-email-verify",
        ["POST"],
        "Verify your email address with a mailed link.",
    ),
    (
        "email_verify_resend",
        "auth-email-verify-resend",
        ["POST"],
        "Mail a new verification link.",
    ),
    ("me", "me", ["GET", "PATCH", "DELETE"], "Your profile: read, change, erase."),
    ("my_locations", "me-locations", ["GET"], "Your places, in every status."),
    ("my_export", "me-export", ["GET"], "Export of all your data (GDPR)."),
    ("categories", "categories", ["GET"], "Category slugs and labels."),
    ("locations", "locations", ["POST"], "Submit a place."),
    ("locations_search", "locations-search", ["GET"], "Places by radius and text."),
    ("locations_viewport", "locations-viewport", ["GET"], "Places in a bounding box."),
    ("locations_duplicates", "locations-duplicates", ["GET"], "Likely duplicates of a place."),
    ("locations_export", "locations-export", ["GET"], "Every approved place, streamed."),
    ("location", "location-detail", ["GET", "PATCH", "DELETE"], "One place.", _ID),
    ("location_revisions", "location-revisions", ["GET"], "A place's revisions.", _ID),
    ("location_flags", "location-flags", ["POST"], "Report a public place.", _ID),
    ("image_upload", "image-upload", ["POST"], "Upload a photo."),
    ("image", "image-detail", ["GET", "DELETE"], "One photo.", _ID),
    ("image_flags", "image-flags", ["POST"], "Report a public photo.", _ID),
    ("tile", "tile", ["GET"], "Vector tile of the places (MVT).", _TILE),
    ("tilejson", "tilejson", ["GET"], "TileJSON of the vector tiles."),
    ("ogc", "ogc-landing", ["GET"], "OGC API - Features landing page."),
    ("moderation_queue", "moderation-queue", ["GET"], "Places awaiting review (moderators)."),
    (
        "moderation_status",
        "moderation-location-status",
        ["PATCH"],
        "Approve or reject a place or its pending edit (moderators).",
        _ID,
    ),
    ("moderation_revert", "moderation-location-revert", ["POST"], "Revert a place.", _ID),
    ("moderation_merge", "moderation-location-merge", ["POST"], "Merge a duplicate.", _ID),
    ("moderation_log", "moderation-location-log", ["GET"], "A place's moderation log.", _ID),
    ("moderation_images", "moderation-images", ["GET"], "Photos awaiting review."),
    ("moderation_image_status", "moderation-image-status", ["PATCH"], "Decide a photo.", _ID),
    ("moderation_flags", "moderation-flags", ["GET"], "Open flags (moderators)."),
    ("moderation_flag", "moderation-flag", ["PATCH"], "Resolve a flag.", _FLAG_ID),
    ("user_suspend", "moderation-user-suspend", ["POST"], "Suspend an account.", _USER),
    ("user_unsuspend", "moderation-user-unsuspend", ["POST"], "Lift a suspension.", _USER),
    ("user_trust", "moderation-user-trust", ["POST", "DELETE"], "Grant or withdraw trust.", _USER),
)


def _href(request, url_name: str, params: dict | None = None) -> str | None:
    try:
        path = reverse(f"{API_VERSION}:{url_name}", kwargs=params)
    except NoReverseMatch:
        return None
    # After build_absolute_uri, which would percent-encode the template's braces.
    href = request.build_absolute_uri(path)
    for name, placeholder in (params or {}).items():
        href = href.replace(str(placeholder), "{" + name + "}")
    return href


@public_read
class ApiRootView(APIView):
    """GET /api/v1/: the resources of version 1 and where the docs are."""

    renderer_classes = [JSONRenderer]
    authentication_classes: list = []
    schema = None  # the index itself is not an operation of the schema

    def get(self, request):
        resources = {}
        for key, url_name, methods, description, *params in RESOURCES:
            href = _href(request, url_name, params[0] if params else None)
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
