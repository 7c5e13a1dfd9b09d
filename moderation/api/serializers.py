from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from locations.api.serializers import RevisionOutputSerializer
from locations.constants import LocationStatus
from locations.selectors import location_pending_revision_dict
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
    # The version the moderator saw (the place's detail or queue item); a place that
    # changed since, or got a new proposal, answers 409 with `current_version`.
    expected_version = serializers.IntegerField(min_value=1, required=False, default=None)

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
    # What a decision's expected_version names, and the owner's edit awaiting review
    # (null when none), its diff against the content shown above.
    version = serializers.IntegerField()
    pending_revision = serializers.SerializerMethodField()

    @extend_schema_field(ModerationPointOutputSerializer)
    def get_point(self, location) -> dict:
        return {"type": "Point", "coordinates": [location.point.x, location.point.y]}

    @extend_schema_field(RevisionOutputSerializer(allow_null=True))
    def get_pending_revision(self, location) -> dict | None:
        # Only moderators reach these views: they see who wrote the revision.
        return location_pending_revision_dict(location, as_moderator=True)


class LocationRevertInputSerializer(serializers.Serializer):
    # The id of an applied or approved revision (GET /locations/{id}/revisions).
    revision = serializers.UUIDField()
    expected_version = serializers.IntegerField(min_value=1, required=False, default=None)


class ModerationLogOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    location_id = serializers.UUIDField(source="location_ref")
    moderator = serializers.CharField(source="moderator.username", default=None)
    from_status = serializers.CharField()
    to_status = serializers.CharField()
    # status, revision_approved, revision_rejected or revert; the revision decided (or,
    # for a revert, written) and the place's version after the decision.
    action = serializers.CharField()
    revision_id = serializers.UUIDField(allow_null=True)
    version = serializers.IntegerField(allow_null=True)
    reason_code = serializers.CharField()
    reason_label = serializers.SerializerMethodField()
    reason = serializers.CharField()
    created_at = serializers.DateTimeField()

    def get_reason_label(self, log) -> str:
        return REASON_CODES.get(log.reason_code, "")
