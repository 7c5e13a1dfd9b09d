"""GeoJSON's own media type (RFC 7946) for the views that answer Features.

A minimal renderer so those views answer `application/geo+json` (what the schema
declares); the negotiation that also serves it to `Accept: application/json` belongs to
issue 14's runtime half."""

from rest_framework.renderers import JSONRenderer

GEOJSON_MEDIA_TYPE = "application/geo+json"


class GeoJSONRenderer(JSONRenderer):
    media_type = GEOJSON_MEDIA_TYPE
    format = "geojson"
