"""The GeoJSON shape of a place, defined once.

A place is a Feature whose `id` is the place's id, whose geometry is its point with
COORDINATE_DECIMALS decimals, and whose properties carry the id again and the public
fields, timestamps in config.timestamps' text. The hot list reads (search, viewport,
export) build it in SQL (`feature_sql`), one statement returning the finished document;
the detail, own places and the live feed build it in Python
(`LocationFeatureSerializer`). Both spell the same keys in the same order, so a place
reads the same everywhere.
"""

from collections.abc import Callable, Mapping, Sequence

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers
from rest_framework_gis.fields import GeometryField
from rest_framework_gis.serializers import GeoFeatureModelSerializer

from config.timestamps import UtcDateTimeField, sql_utc_timestamp, utc_timestamp
from locations.constants import COORDINATE_DECIMALS
from locations.models import Location
from media_store.selectors import image_public_dict

# The public properties of a place, in the order the detail writes them.
PUBLIC_PROPERTIES = (
    "id",
    "name",
    "description",
    "category",
    "address",
    "status",
    "version",
    "created_at",
    "updated_at",
    "approved_at",
)
TIMESTAMP_PROPERTIES = frozenset({"created_at", "updated_at", "approved_at"})


def _pairs(members: Sequence[tuple[str, str]], indent: str) -> str:
    return f",\n{indent}".join(f"'{name}', {value}" for name, value in members)


def json_object_sql(members: Sequence[tuple[str, str]], *, indent: str = "    ") -> str:
    """`json_build_object('k', v, ...)` of fixed (name, SQL expression) pairs, in order:
    PostgreSQL keeps the order, and the clients' byte-compared answers depend on it."""
    return f"json_build_object(\n{indent}{_pairs(members, indent)}\n)"


def feature_sql(
    alias: str = "l",
    *,
    properties: Sequence[str],
    extra: Mapping[str, str] | None = None,
    decimals: int = COORDINATE_DECIMALS,
    timestamp: Callable[[str], str] = sql_utc_timestamp,
) -> str:
    """The SQL expression of one place's Feature, from the row `alias` (a
    locations_location row or a subquery with its column names).

    `properties` are column names, written in that order (timestamps through
    `timestamp`); `extra` adds computed properties after them (name -> SQL)."""
    members = [
        (name, timestamp(f"{alias}.{name}") if name in TIMESTAMP_PROPERTIES else f"{alias}.{name}")
        for name in properties
    ]
    members += list((extra or {}).items())
    return json_object_sql(
        [
            ("type", "'Feature'"),
            ("id", f"{alias}.id"),
            ("geometry", f"ST_AsGeoJSON({alias}.point, {int(decimals)})::json"),
            ("properties", json_object_sql(members, indent="        ")),
        ]
    )


def _rounded(expression: str, decimals: int) -> str:
    return f"round(({expression})::numeric, {int(decimals)})"


def cluster_feature_sql(alias: str = "c", *, decimals: int = COORDINATE_DECIMALS) -> str:
    """A viewport cluster as a Feature: its members' mean position, their count and
    extent (`bbox`), from a row with n, lon, lat, min_lon, min_lat, max_lon, max_lat."""
    coordinates = [_rounded(f"{alias}.{axis}", decimals) for axis in ("lon", "lat")]
    extent = [
        _rounded(f"{alias}.{edge}", decimals)
        for edge in ("min_lon", "min_lat", "max_lon", "max_lat")
    ]
    return json_object_sql(
        [
            ("type", "'Feature'"),
            (
                "geometry",
                json_object_sql(
                    [
                        ("type", "'Point'"),
                        ("coordinates", f"json_build_array({', '.join(coordinates)})"),
                    ]
                ),
            ),
            (
                "properties",
                json_object_sql(
                    [
                        ("cluster", "true"),
                        ("count", f"{alias}.n"),
                        ("bbox", f"json_build_array({', '.join(extent)})"),
                    ]
                ),
            ),
        ]
    )


def feature_collection_sql(
    features: str, *, before: Sequence[tuple[str, str]] = (), after: Sequence[tuple[str, str]] = ()
) -> str:
    """A FeatureCollection object: `type`, the `before` members, `features` (an SQL
    json array expression), then the `after` members."""
    return json_object_sql(
        [("type", "'FeatureCollection'"), *before, ("features", features), *after]
    )


# --- The Python-built Feature (detail, own places, live feed) ------------------------


class _ImagePublicSchema(serializers.Serializer):
    # The schema of media_store.selectors.image_public_dict, which renders each photo.
    id = serializers.UUIDField()
    url = serializers.URLField(allow_null=True)
    thumbnail_url = serializers.URLField(allow_null=True)
    thumbnails = serializers.DictField(child=serializers.URLField(), required=False)
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    moderation_status = serializers.CharField()

    class Meta:
        ref_name = "ImageOutput"


@extend_schema_field(_ImagePublicSchema(many=True))
class _PublicImagesField(serializers.Field):
    """The place's ready photos, oldest first: `images` must be prefetched with
    selectors.places' ready-photos Prefetch (every selector that builds Features does)."""

    def __init__(self, **kwargs):
        super().__init__(read_only=True, **kwargs)

    def get_attribute(self, instance):
        return instance.images.all()

    def to_representation(self, value):
        return [image_public_dict(image) for image in value]


def location_feature_dict(location: Location) -> dict:
    """The same Feature as LocationFeatureSerializer, built by hand: the list path.

    drf-gis costs 5-13x the time per Feature (GDAL's GeoJSON of the point, then DRF's
    fields; docs/benchmarks.md), which a 200-place page of GET /me/locations would feel.
    tests/locations/test_geojson.py holds the two to the same bytes."""
    return {
        "type": "Feature",
        "id": str(location.id),
        "geometry": {
            "type": "Point",
            "coordinates": [
                round(location.point.x, COORDINATE_DECIMALS),
                round(location.point.y, COORDINATE_DECIMALS),
            ],
        },
        "properties": {
            "id": str(location.id),
            "name": location.name,
            "description": location.description,
            "category": location.category,
            "address": location.address,
            "status": location.status,
            "version": location.version,
            "created_at": utc_timestamp(location.created_at),
            "updated_at": utc_timestamp(location.updated_at),
            "approved_at": utc_timestamp(location.approved_at),
            "images": [image_public_dict(image) for image in location.images.all()],
        },
    }


class _FeatureListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        items = data.all() if hasattr(data, "all") else data
        return [location_feature_dict(location) for location in items]


class LocationFeatureSerializer(GeoFeatureModelSerializer):
    """A place as a GeoJSON Feature: GET/POST/PATCH /locations/{id}, each item of GET
    /me/locations, and the Feature the live feed sends. Its properties repeat the id."""

    # The keys come out as they always have: `type`, `id`, `geometry`, `properties`,
    # and `id` first in the properties (drf-gis writes `id` first and drops it from the
    # properties; get_properties and to_representation put that back).

    point = GeometryField(precision=COORDINATE_DECIMALS)
    created_at = UtcDateTimeField(read_only=True)
    updated_at = UtcDateTimeField(read_only=True)
    approved_at = UtcDateTimeField(read_only=True, allow_null=True)
    images = _PublicImagesField()

    class Meta:
        model = Location
        geo_field = "point"
        id_field = "id"
        fields = ("id", "point", *PUBLIC_PROPERTIES[1:], "images")
        read_only_fields = fields
        # many=True: the hand-built path (see location_feature_dict).
        list_serializer_class = _FeatureListSerializer

    def get_properties(self, instance, fields):
        return {"id": str(instance.id), **super().get_properties(instance, fields)}

    def to_representation(self, instance):
        feature = super().to_representation(instance)
        geometry = dict(feature["geometry"])
        # drf-gis rounds into a tuple; the feed's and the tests' dicts hold lists.
        geometry["coordinates"] = list(geometry["coordinates"])
        return {
            "type": "Feature",
            "id": feature["id"],
            "geometry": geometry,
            "properties": feature["properties"],
        }
