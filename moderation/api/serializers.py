from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from locations.constants import LocationStatus
from media_store.api.serializers import ImagePublicSerializer
from moderation import services
from moderation.constants import REASON_CODE_CHOICES, REASON_CODES, REASON_MAX_LENGTH


class LocationStatusInputSerializer(serializers.Serializer):
    status = serializers.ChoiceField(
        choices=[(s, LocationStatus(s).label) for s in (services.APPROVED, services.REJECTED)]
    )
    reason_code = serializers.ChoiceField(
        choices=REASON_CODE_CHOICES, required=False, allow_blank=True, default=""
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH
    )
    # The status the moderator saw; a place that has moved on meanwhile answers 409.
    expected_status = serializers.ChoiceField(
        choices=LocationStatus.choices, required=False, default=None
    )

    def validate(self, attrs):
        # The service's own rules, so the API and the admin console refuse the same input.
        errors = services.decision_validate(
            to_status=attrs["status"], reason_code=attrs["reason_code"], reason=attrs["reason"]
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ModerationPointOutputSerializer(serializers.Serializer):
    type = serializers.CharField()
    coordinates = serializers.ListField(child=serializers.FloatField())


class ModerationLocationOutputSerializer(serializers.Serializer):
    """A place as a moderator sees it: any status, with its submitter and photos."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    description = serializers.CharField()
    category = serializers.CharField()
    address = serializers.CharField()
    status = serializers.CharField()
    point = serializers.SerializerMethodField()
    submitter = serializers.CharField(source="submitter.username", default=None, allow_null=True)
    created_at = serializers.DateTimeField()
    updated_at = serializers.DateTimeField()
    approved_at = serializers.DateTimeField(allow_null=True)  # null until approved
    # Prefetched (ready photos only) by the moderation selectors: no query per place.
    images = ImagePublicSerializer(many=True, read_only=True)

    @extend_schema_field(ModerationPointOutputSerializer)
    def get_point(self, location) -> dict:
        return {"type": "Point", "coordinates": [location.point.x, location.point.y]}


class ModerationLogOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    location_id = serializers.UUIDField(source="location_ref")
    moderator = serializers.CharField(source="moderator.username", default=None)
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    reason_code = serializers.CharField()
    reason_label = serializers.SerializerMethodField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_reason_label(self, log) -> str:
        return REASON_CODES.get(log.reason_code, "")
