"""Input and output shapes of the places API.

Writes validate with the *Input* serializers; a place renders as
locations.geojson.LocationFeatureSerializer. The hot list reads (search, viewport) render
in SQL (locations.selectors); their parameter serializers live here too, and the exact
OpenAPI shapes of every GeoJSON answer in locations.api.schema.
"""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.params import CURSOR_PARAM, CursorField, QueryParamsSerializer
from config.text import CleanCharField
from locations import categories, constants
from locations.geo import BBox, BBoxError, parse_bbox, quantize_degrees
from locations.selectors import revision_dict
from media_store.selectors import image_ids_unattachable

# Categories are data (GET /api/v1/categories): the schema says "a slug", not an enum.
_CATEGORY_HELP = "A category slug (GET /api/v1/categories)."


class CategoryField(serializers.CharField):
    """A category slug; whether the place may have it (active, or already its own) is
    the service's check (locations.categories.check_place_category)."""

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", _CATEGORY_HELP)
        super().__init__(max_length=constants.CATEGORY_SLUG_MAX_LENGTH, **kwargs)


class FiniteFloatField(serializers.FloatField):
    """A finite number (DRF already refuses NaN/Infinity); booleans are not numbers."""

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return super().to_internal_value(data)


class _CoordinateField(FiniteFloatField):
    """Quantized after the range check (locations.geo.quantize_degrees): the one rounding
    every entry point applies, so a subnormal such as 5e-324 is stored as 0."""

    def run_validation(self, data=serializers.empty):
        value = super().run_validation(data)
        return value if value is None else quantize_degrees(value)


class LatitudeField(_CoordinateField):
    def __init__(self, **kwargs):
        super().__init__(min_value=-90, max_value=90, **kwargs)


class LongitudeField(_CoordinateField):
    def __init__(self, **kwargs):
        super().__init__(min_value=-180, max_value=180, **kwargs)


class _LocationFieldsMixin(serializers.Serializer):
    # Text is clean_text()ed before its length checks: invisible characters never count.
    name = CleanCharField(
        min_length=constants.NAME_MIN_LENGTH, max_length=constants.NAME_MAX_LENGTH
    )
    description = CleanCharField(
        multiline=True,
        max_length=constants.DESCRIPTION_MAX_LENGTH,
        required=False,
        allow_blank=True,
    )
    category = CategoryField()
    address = CleanCharField(
        max_length=constants.ADDRESS_MAX_LENGTH, required=False, allow_blank=True
    )
    latitude = LatitudeField()
    longitude = LongitudeField()


class LocationCreateInputSerializer(_LocationFieldsMixin):
    """POST /locations, and each row of a bulk import (which sends no image_ids and no
    request, and passes context["categories"], a locations.categories.Snapshot). Unknown and read-only keys (status, id, approved_at, submitter...) are
    ignored: only the declared fields reach the service."""

    image_ids = serializers.ListField(
        child=serializers.UUIDField(),
        required=False,
        max_length=constants.IMAGE_IDS_MAX,
        allow_empty=True,
    )

    def validate_category(self, value):
        # A new place (or an imported row): an active category only. The service checks
        # again against the table itself (a deactivation in another process). The bulk
        # import passes one snapshot (it may not query between the rows it COPYs).
        snapshot = self.context.get("categories") or categories.snapshot()
        try:
            snapshot.check(value)
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict["category"]) from None
        return value

    def validate_image_ids(self, value):
        if not value:
            return []
        if len(set(value)) != len(value):
            raise serializers.ValidationError("Each image may be listed once.")
        request = self.context.get("request")
        user = getattr(request, "user", None) or self.context.get("user")
        if user is None or not user.is_authenticated:
            raise serializers.ValidationError("Images can only be attached by their uploader.")
        # An early, friendly check; locations.services re-checks under a row lock.
        unusable = image_ids_unattachable(image_ids=value, uploader=user)
        if unusable:
            raise serializers.ValidationError(
                "Unknown, not yours, or already attached: " + ", ".join(map(str, unusable))
            )
        return value


class LocationUpdateInputSerializer(_LocationFieldsMixin):
    """PATCH /locations/{id}: every field optional, at least one given."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("partial", True)
        super().__init__(*args, **kwargs)

    def validate(self, attrs):
        if not attrs:
            raise serializers.ValidationError(
                "Send at least one of: " + ", ".join(self.fields) + "."
            )
        if ("latitude" in attrs) != ("longitude" in attrs):
            missing = "longitude" if "latitude" in attrs else "latitude"
            raise serializers.ValidationError({missing: ["Send latitude and longitude together."]})
        return attrs


# --- Outputs --------------------------------------------------------------------------


class _PointSchema(serializers.Serializer):
    type = serializers.CharField()
    coordinates = serializers.ListField(child=serializers.FloatField())


class _ChangeSchema(serializers.Serializer):
    before = serializers.JSONField(allow_null=True)
    after = serializers.JSONField(allow_null=True)


class RevisionOutputSerializer(serializers.Serializer):
    """A revision of a place (locations.selectors.revision_dict renders it): a version
    applied at once (`applied`), or a proposal (`pending`, `approved`, `rejected`,
    `superseded`), with every changed field before and after (the point as GeoJSON)."""

    id = serializers.UUIDField()
    version = serializers.IntegerField()
    base_version = serializers.IntegerField()
    status = serializers.ChoiceField(choices=constants.RevisionStatus.choices)
    source = serializers.CharField()
    author = serializers.CharField(allow_null=True)
    created_at = serializers.CharField()
    changes = serializers.DictField(child=_ChangeSchema())
    reverted_from = serializers.UUIDField(allow_null=True)
    decided_by = serializers.CharField(allow_null=True)
    decided_at = serializers.CharField(allow_null=True)
    reason_code = serializers.CharField(allow_blank=True)
    reason = serializers.CharField(allow_blank=True)

    class Meta:
        ref_name = "LocationRevision"

    def to_representation(self, instance):
        # The caller's role, checked once per page (LocationRevisionsView's context).
        return revision_dict(
            instance,
            as_moderator=self.context["as_moderator"],
            viewer_id=self.context.get("viewer_id"),
        )


class CategoryOutputSerializer(serializers.Serializer):
    slug = serializers.CharField()
    label = serializers.CharField(help_text="In the answer's Content-Language.")
    description = serializers.CharField(help_text="In the answer's Content-Language.")
    icon = serializers.CharField(help_text="An icon name for map clients; may be empty.")
    active = serializers.BooleanField(help_text="False: kept on old places, refused for new.")


class CategoryListParamsSerializer(QueryParamsSerializer):
    include_inactive = serializers.BooleanField(
        required=False,
        default=False,
        help_text="Also list deactivated categories (old places may still have them).",
    )


# --- Read parameters -------------------------------------------------------------------


@extend_schema_field({"type": "array", "items": {"type": "string", "description": _CATEGORY_HELP}})
class CategoryListField(serializers.Field):
    """`category=park&category=cafe` or `category=park,cafe`."""

    default_error_messages = {
        "unknown": "Unknown category: {value}. See GET /api/v1/categories.",
        "too_many": "At most {max} categories.",
    }

    def get_value(self, dictionary):
        if hasattr(dictionary, "getlist"):
            values = dictionary.getlist(self.field_name)
            return values if values else serializers.empty
        return super().get_value(dictionary)

    def to_internal_value(self, data):
        raw = data if isinstance(data, list) else [data]
        # Any category, active or not: old places keep a deactivated one.
        known = categories.known_slugs()
        slugs: list[str] = []
        for item in raw:
            if not isinstance(item, str):
                self.fail("unknown", value=item)
            for slug in item.split(","):
                slug = slug.strip()
                if not slug:
                    continue
                if slug not in known:
                    self.fail("unknown", value=slug[:40])
                if slug not in slugs:
                    slugs.append(slug)
        if len(slugs) > constants.CATEGORY_FILTER_MAX:
            self.fail("too_many", max=constants.CATEGORY_FILTER_MAX)
        # Sorted: the same filter spelled in another order is the same cached question.
        return sorted(slugs)

    def to_representation(self, value):
        return value


class _TextFilterMixin(QueryParamsSerializer):
    q = serializers.CharField(
        required=False, max_length=constants.SEARCH_Q_MAX_LENGTH, allow_blank=True
    )
    category = CategoryListField(required=False)

    def validate_q(self, value):
        # NUL cannot go into a Postgres text parameter; refuse it instead of a 500.
        if "\x00" in value:
            raise serializers.ValidationError("Control characters are not allowed.")
        return value.strip()


class LocationSearchParamsSerializer(_TextFilterMixin):
    """GET /locations/search: radius around lat/lon, optionally with text; or text alone."""

    lat = LatitudeField(required=False)
    lon = LongitudeField(required=False)
    radius = serializers.IntegerField(
        required=False,
        min_value=constants.SEARCH_RADIUS_MIN_M,
        max_value=constants.SEARCH_RADIUS_MAX_M,
        default=constants.SEARCH_RADIUS_DEFAULT_M,
    )
    ordering = serializers.ChoiceField(choices=constants.SEARCH_ORDERINGS, required=False)
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=constants.SEARCH_LIMIT_MAX,
        default=constants.SEARCH_LIMIT_DEFAULT,
    )
    offset = serializers.IntegerField(
        required=False, min_value=0, max_value=constants.SEARCH_OFFSET_MAX, default=0
    )
    # Ranked and nearest-first reads cannot seek to a key through an index (the KNN scan
    # walks from the centre either way), so a search cursor is an offset in the same
    # opaque form as the other lists' keyset cursors, capped at SEARCH_OFFSET_MAX.
    cursor = CursorField()

    def validate_cursor(self, value):
        offset = value.get("s")
        if (
            type(offset) is not int
            or not 0 <= offset <= constants.SEARCH_OFFSET_MAX
            or len(value) != 1
        ):
            raise serializers.ValidationError(CursorField.default_error_messages["cursor"])
        return value

    def validate(self, attrs):
        cursor = attrs.pop(CURSOR_PARAM, None)
        if cursor is not None:
            if "offset" in self.initial_data:
                raise serializers.ValidationError(
                    {CURSOR_PARAM: ["Send cursor or offset, not both."]}
                )
            attrs["offset"] = cursor["s"]
        has_lat, has_lon = "lat" in attrs, "lon" in attrs
        if has_lat != has_lon:
            missing = "lon" if has_lat else "lat"
            raise serializers.ValidationError({missing: ["Send lat and lon together."]})
        q = attrs.get("q") or ""
        if not has_lat and not q:
            raise serializers.ValidationError(
                {"lat": ["Send lat and lon (a radius search), q (a text search), or both."]}
            )
        ordering = attrs.get("ordering")
        if ordering == "relevance" and not q:
            raise serializers.ValidationError({"ordering": ["Ordering by relevance needs q."]})
        if ordering == "distance" and not has_lat:
            raise serializers.ValidationError(
                {"ordering": ["Ordering by distance needs lat and lon."]}
            )
        if ordering is None:
            attrs["ordering"] = "distance" if has_lat else "relevance"
        attrs["q"] = q
        attrs.setdefault("category", [])
        return attrs


@extend_schema_field(
    {
        "type": "string",
        "description": "minLon,minLat,maxLon,maxLat (WGS 84); minLon > maxLon crosses the "
        "antimeridian.",
        "example": "13.0,52.3,13.8,52.7",
    }
)
class BBoxField(serializers.Field):
    """minLon,minLat,maxLon,maxLat in WGS 84, parsed by locations.geo.parse_bbox into a
    BBox. minLon > maxLon crosses the antimeridian. The API words the rules its own way
    (the live feed keeps parse_bbox's wording)."""

    MAX_LENGTH = 200
    default_error_messages = {
        "count": "Expected 4 numbers: minLon,minLat,maxLon,maxLat.",
        "number": "Each bbox value must be a finite number.",
        "lon": "Longitudes must be within -180..180.",
        "lat": "Latitudes must be within -90..90.",
        "lat_order": "minLat must be smaller than maxLat.",
        "empty": "minLon and maxLon must differ.",
    }

    def to_internal_value(self, data) -> BBox:
        if not isinstance(data, str):
            self.fail("count")
        try:
            return parse_bbox(data, max_length=self.MAX_LENGTH)
        except BBoxError as exc:
            self.fail(exc.code)

    def to_representation(self, value):
        return ",".join(str(v) for v in value)


class LocationViewportParamsSerializer(_TextFilterMixin):
    bbox = BBoxField()
    zoom = serializers.IntegerField(
        required=False, min_value=constants.ZOOM_MIN, max_value=constants.ZOOM_MAX
    )
    limit = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=constants.VIEWPORT_LIMIT_MAX,
        default=constants.VIEWPORT_LIMIT_DEFAULT,
    )

    def validate(self, attrs):
        attrs["q"] = attrs.get("q") or ""
        attrs.setdefault("category", [])
        attrs.setdefault("zoom", None)
        return attrs


# --- Duplicates (docs/moderation.md "Duplicates") ------------------------------------


class LocationDuplicatesParamsSerializer(QueryParamsSerializer):
    """GET /locations/duplicates: a place about to be submitted. Every parameter is
    checked: empty, repeated-away or unknown ones are a 400 naming them."""

    lat = LatitudeField()
    lon = LongitudeField()
    name = CleanCharField(
        min_length=constants.NAME_MIN_LENGTH, max_length=constants.NAME_MAX_LENGTH
    )
    category = CategoryField(required=False)

    def validate_category(self, value):
        if value not in categories.known_slugs():
            raise serializers.ValidationError(
                f"Unknown category: {value[:40]}. See GET /api/v1/categories."
            )
        return value

    def to_internal_value(self, data):
        if hasattr(data, "keys"):
            unknown = sorted(set(data.keys()) - set(self.fields))
            if unknown:
                allowed = ", ".join(self.fields)
                raise serializers.ValidationError(
                    {name: [f"Unknown parameter. Allowed here: {allowed}."] for name in unknown}
                )
        return super().to_internal_value(data)


class DuplicateCandidateSerializer(serializers.Serializer):
    """A likely duplicate (locations.selectors.location_duplicates)."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    distance_m = serializers.FloatField()
    similarity = serializers.FloatField()


class LocationDuplicatesOutputSerializer(serializers.Serializer):
    possible_duplicates = DuplicateCandidateSerializer(many=True)
