"""GeoJSON on the wire: `Content-Type: application/geo+json` (RFC 7946).

Every GeoJSON endpoint (search, viewport, place detail, the answer to POST /locations,
/me/locations) renders with GeoJSONRenderer through GeoJSONContentNegotiation: a client
asking for `application/geo+json`, `application/json` (GeoJSON is JSON) or `*/*` gets
GeoJSON labelled as such; anything else is 406. Errors keep `application/problem+json`
(the problem handler names its content type itself).
"""

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import JSONRenderer

GEOJSON_MEDIA_TYPE = "application/geo+json"
JSON_MEDIA_TYPE = "application/json"


class GeoJSONRenderer(JSONRenderer):
    media_type = GEOJSON_MEDIA_TYPE
    format = "geojson"


class GeoJSONContentNegotiation(DefaultContentNegotiation):
    """`application/json` in Accept counts as a request for GeoJSON (same weight)."""

    def get_accept_list(self, request):
        return [
            GEOJSON_MEDIA_TYPE + accepted[len(JSON_MEDIA_TYPE) :]
            if accepted.split(";")[0].strip().lower() == JSON_MEDIA_TYPE
            else accepted
            for accepted in super().get_accept_list(request)
        ]


class GeoJSONViewMixin:
    """For an APIView whose success answers are GeoJSON."""

    renderer_classes = [GeoJSONRenderer]
    content_negotiation_class = GeoJSONContentNegotiation
