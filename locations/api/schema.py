"""The OpenAPI shapes of the places' GeoJSON, for the schema only.

The answers themselves are built in SQL (locations.selectors: search, viewport, export)
or by locations.geojson; these serializers describe them exactly (required members,
nullable timestamps, the viewport's clusters) so generated clients can trust them.
tests/test_api_contract.py checks real answers against them.
"""

from drf_spectacular.utils import PolymorphicProxySerializer, extend_schema_field
from rest_framework import serializers

from locations import constants
from locations.api.serializers import RevisionOutputSerializer
from locations.geojson import _ImagePublicSchema

_VERSION_HELP = (
    "Increments with every change of content (and every proposal): what a moderator's "
    "`expected_version` names."
)


@extend_schema_field({"type": "string", "enum": ["Feature"]})
class _FeatureTypeField(serializers.CharField):
    pass


@extend_schema_field({"type": "string", "enum": ["FeatureCollection"]})
class _CollectionTypeField(serializers.CharField):
    pass


@extend_schema_field({"type": "boolean", "enum": [True]})
class _TrueField(serializers.BooleanField):
    pass


def _coordinates(size: int, description: str) -> serializers.ListField:
    return serializers.ListField(
        child=serializers.FloatField(),
        min_length=size,
        max_length=size,
        help_text=description,
    )


class PointGeometrySerializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=["Point"])
    coordinates = _coordinates(2, "[longitude, latitude], WGS 84.")


class _PlaceBasics(serializers.Serializer):
    id = serializers.UUIDField()
    name = serializers.CharField()
    category = serializers.CharField(help_text="A category slug (GET /api/v1/categories).")
    address = serializers.CharField(allow_blank=True, help_text="Empty when not given.")


class _PlacePublicProperties(_PlaceBasics):
    description = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=constants.LocationStatus.choices)
    version = serializers.IntegerField(min_value=1, help_text=_VERSION_HELP)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True, help_text="Null until approved.")


class PlacePropertiesSerializer(_PlacePublicProperties):
    images = _ImagePublicSchema(many=True, help_text="Ready photos, oldest first.")
    pending_revision = RevisionOutputSerializer(
        required=False,
        allow_null=True,
        help_text="Only in the owner's GET and PATCH of the place: their edit awaiting "
        "review, null when none.",
    )


class PlaceFeatureSerializer(serializers.Serializer):
    """A place: GET, POST and PATCH /locations, each item of GET /me/locations."""

    type = _FeatureTypeField()
    id = serializers.UUIDField()
    geometry = PointGeometrySerializer()
    properties = PlacePropertiesSerializer()


class SearchPlacePropertiesSerializer(_PlacePublicProperties):
    distance_m = serializers.FloatField(
        allow_null=True, help_text="Metres from lat/lon (0.1 m); null in a text-only search."
    )


class SearchPlaceFeatureSerializer(PlaceFeatureSerializer):
    properties = SearchPlacePropertiesSerializer()


class SearchFeatureCollectionSerializer(serializers.Serializer):
    """GET /locations/search: one page, the envelope of every list beside `features`."""

    type = _CollectionTypeField()
    features = SearchPlaceFeatureSerializer(many=True)
    next = serializers.URLField(allow_null=True, help_text='Also `Link: <...>; rel="next"`.')
    previous = serializers.URLField(allow_null=True, help_text='Also `rel="prev"`.')
    limit = serializers.IntegerField(min_value=1)
    count = serializers.IntegerField(
        allow_null=True, help_text="Always null: counting every match would read them all."
    )


class ViewportPlacePropertiesSerializer(_PlaceBasics):
    approved_at = serializers.DateTimeField(allow_null=True)
    version = serializers.IntegerField(min_value=1, help_text=_VERSION_HELP)


class ViewportPlaceFeatureSerializer(serializers.Serializer):
    """A place on the map: what a marker needs; GET /locations/{id} has the rest."""

    type = _FeatureTypeField()
    id = serializers.UUIDField()
    geometry = PointGeometrySerializer()
    properties = ViewportPlacePropertiesSerializer()


class ClusterPropertiesSerializer(serializers.Serializer):
    cluster = _TrueField()
    count = serializers.IntegerField(min_value=1, help_text="Places in the cluster.")
    bbox = _coordinates(4, "The members' extent: [minLon, minLat, maxLon, maxLat].")


class ClusterFeatureSerializer(serializers.Serializer):
    """A grid cell's places, at their mean position (no `id`)."""

    type = _FeatureTypeField()
    geometry = PointGeometrySerializer()
    properties = ClusterPropertiesSerializer()


class ViewportFeatureCollectionSerializer(serializers.Serializer):
    """GET /locations/viewport: every place inside (`clustered: false`) or, when more
    than `limit` are, grid clusters whose counts add up to `total`. Not paginated: the
    answer is never cut."""

    type = _CollectionTypeField()
    clustered = serializers.BooleanField()
    total = serializers.IntegerField(min_value=0, help_text="Places inside the bbox.")
    cell_size_deg = serializers.FloatField(
        required=False, help_text="The cluster grid's cell in degrees; only when clustered."
    )
    features = PolymorphicProxySerializer(
        component_name="ViewportFeature",
        serializers=[ViewportPlaceFeatureSerializer, ClusterFeatureSerializer],
        resource_type_field_name=None,
        many=True,
    )


class ExportPropertiesSerializer(serializers.Serializer):
    external_id = serializers.CharField(
        allow_null=True, help_text="What a re-import matches on; null for places made here."
    )
    name = serializers.CharField()
    description = serializers.CharField(allow_blank=True)
    category = serializers.CharField(help_text="A category slug (GET /api/v1/categories).")
    address = serializers.CharField(allow_blank=True)
    status = serializers.ChoiceField(choices=[constants.LocationStatus.APPROVED])
    created_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)


class ExportFeatureSerializer(serializers.Serializer):
    type = _FeatureTypeField()
    id = serializers.UUIDField()
    geometry = PointGeometrySerializer()
    properties = ExportPropertiesSerializer()


class ExportFeatureCollectionSerializer(serializers.Serializer):
    """GET /locations/export?format=geojson: every approved place, streamed."""

    type = _CollectionTypeField()
    features = ExportFeatureSerializer(many=True)
