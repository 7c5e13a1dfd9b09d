from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from locations.api.serializers import (
    DuplicateCandidateSerializer,
    LocationUpdateInputSerializer,
    RevisionOutputSerializer,
)
from locations.constants import LocationStatus
from locations.selectors import location_pending_revision_dict, locations_duplicates_by_id
from media_store.api.serializers import ImageDetailSerializer, ImagePublicSerializer
from moderation import services
from moderation.constants import (
    FLAG_COMMENT_MAX_LENGTH,
    FLAG_REASON_CHOICES,
    REASON_CODE_CHOICES,
    REASON_CODES,
    REASON_MAX_LENGTH,
)
from moderation.models import FlagStatus


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


class _SpamSignalSerializer(serializers.Serializer):
    name = serializers.CharField()
    weight = serializers.IntegerField()
    detail = serializers.CharField(allow_blank=True)


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
    # docs/moderation.md "Duplicates", "Spam score".
    possible_duplicates = serializers.SerializerMethodField()
    merged_into = serializers.UUIDField(source="merged_into_id", allow_null=True)
    spam_score = serializers.IntegerField()
    spam_signals = serializers.ListField(child=_SpamSignalSerializer())

    @extend_schema_field(DuplicateCandidateSerializer(many=True))
    def get_possible_duplicates(self, location) -> list[dict]:
        # A list view loads a page's candidates in one statement (context "duplicates");
        # a single place (a decision's answer) reads its own.
        duplicates = self.context.get("duplicates")
        if duplicates is None:
            duplicates = locations_duplicates_by_id(location_ids=[location.id])
        return duplicates.get(str(location.id), [])

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


# --- Photos ------------------------------------------------------------------------------


class ImageStatusInputSerializer(serializers.Serializer):
    """PATCH /admin/images/{id}/status."""

    status = serializers.ChoiceField(choices=[services.IMAGE_APPROVED, services.IMAGE_REJECTED])
    reason_code = serializers.ChoiceField(
        choices=REASON_CODE_CHOICES, required=False, allow_blank=True, default=""
    )
    reason = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH
    )
    # The photo's `version` the moderator saw; a photo changed since answers 409.
    expected_version = serializers.IntegerField(required=False, default=None, min_value=1)

    def validate(self, attrs):
        errors = services.image_decision_validate(
            to_status=attrs["status"], reason_code=attrs["reason_code"], reason=attrs["reason"]
        )
        if errors:
            raise serializers.ValidationError(errors)
        return attrs


class ModerationPlaceBriefSerializer(serializers.Serializer):
    """The place a photo or flag belongs to, as moderation lists show it."""

    id = serializers.UUIDField()
    name = serializers.CharField()
    category = serializers.CharField()
    status = serializers.CharField()
    point = serializers.SerializerMethodField()
    submitter = serializers.CharField(source="submitter.username", default=None, allow_null=True)

    @extend_schema_field(ModerationPointOutputSerializer)
    def get_point(self, location) -> dict:
        return {"type": "Point", "coordinates": [location.point.x, location.point.y]}


class ModerationImageOutputSerializer(ImageDetailSerializer):
    """A photo as a moderator sees it: every size, its statuses, uploader and place
    (`context["places"]`: the page's places by id, loaded in one query)."""

    uploader = serializers.CharField(source="uploader.username", default=None, allow_null=True)
    location = serializers.SerializerMethodField()

    class Meta:
        ref_name = "ModerationImage"

    @extend_schema_field(ModerationPlaceBriefSerializer(allow_null=True))
    def get_location(self, image) -> dict | None:
        place = self.context.get("places", {}).get(image.location_id)
        return ModerationPlaceBriefSerializer(place).data if place is not None else None


# --- Flags ---------------------------------------------------------------------------------


class FlagInputSerializer(serializers.Serializer):
    """POST /locations/{id}/flags and /images/{id}/flags."""

    reason = serializers.ChoiceField(choices=FLAG_REASON_CHOICES)
    comment = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=FLAG_COMMENT_MAX_LENGTH
    )


class FlagOutputSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    target_type = serializers.ChoiceField(choices=["location", "image"])
    location_id = serializers.UUIDField(allow_null=True)
    image_id = serializers.UUIDField(allow_null=True)
    reason = serializers.CharField()
    comment = serializers.CharField()
    status = serializers.ChoiceField(choices=FlagStatus.values)
    created_at = serializers.DateTimeField()
    resolved_at = serializers.DateTimeField(allow_null=True)


class ModerationFlagOutputSerializer(FlagOutputSerializer):
    """A flag as moderators see it: with its reporter, resolver and note."""

    reporter = serializers.CharField(source="reporter.username")
    resolved_by = serializers.CharField(
        source="resolved_by.username", default=None, allow_null=True
    )
    note = serializers.CharField()


class FlaggedObjectOutputSerializer(serializers.Serializer):
    """One item of GET /admin/flags: the flagged place or photo and its flags."""

    target_type = serializers.ChoiceField(choices=["location", "image"])
    location = ModerationLocationOutputSerializer(allow_null=True)
    image = ModerationImageOutputSerializer(allow_null=True)
    flags = ModerationFlagOutputSerializer(many=True)
    first_flagged_at = serializers.DateTimeField()


class TakeDownInputSerializer(serializers.Serializer):
    reason_code = serializers.ChoiceField(choices=REASON_CODE_CHOICES)
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)


@extend_schema_field(LocationUpdateInputSerializer)
class PlaceChangesField(serializers.DictField):
    """PATCH /locations/{id}'s body, validated by its own serializer (partial: a nested
    serializer would take its root's partial flag instead)."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        changes = LocationUpdateInputSerializer(data=data)
        if not changes.is_valid():
            raise serializers.ValidationError(changes.errors)
        return changes.validated_data


class FlagResolveInputSerializer(serializers.Serializer):
    """PATCH /admin/flags/{id}: resolves every open flag on the flag's object."""

    resolution = serializers.ChoiceField(choices=[FlagStatus.DISMISSED, FlagStatus.ACTIONED])
    note = serializers.CharField(
        required=False, allow_blank=True, default="", max_length=REASON_MAX_LENGTH
    )
    # "actioned" only: reject the place or photo (a reason is required) ...
    take_down = TakeDownInputSerializer(required=False, default=None, allow_null=True)
    # ... and/or (places only) edit it as a moderator (PATCH /locations/{id}'s fields).
    changes = PlaceChangesField(required=False, default=None, allow_null=True)

    def validate(self, attrs):
        if attrs["resolution"] == FlagStatus.DISMISSED and (attrs["take_down"] or attrs["changes"]):
            raise serializers.ValidationError(
                {"resolution": ["take_down and changes need the resolution actioned."]}
            )
        return attrs


class FlagResolutionOutputSerializer(serializers.Serializer):
    resolution = serializers.ChoiceField(choices=[FlagStatus.DISMISSED, FlagStatus.ACTIONED])
    target_type = serializers.ChoiceField(choices=["location", "image"])
    location_id = serializers.UUIDField(allow_null=True)
    image_id = serializers.UUIDField(allow_null=True)
    flags = ModerationFlagOutputSerializer(many=True)


# --- Suspension ------------------------------------------------------------------------------


class SuspendInputSerializer(serializers.Serializer):
    reason = serializers.CharField(max_length=REASON_MAX_LENGTH)
    # None or absent: until a moderator lifts it.
    until = serializers.DateTimeField(required=False, default=None, allow_null=True)


class SuspensionOutputSerializer(serializers.Serializer):
    username = serializers.CharField(source="user.username")
    reason = serializers.CharField()
    until = serializers.DateTimeField(allow_null=True)
    created_at = serializers.DateTimeField()
    created_by = serializers.CharField(source="created_by.username", default=None, allow_null=True)
    lifted_at = serializers.DateTimeField(allow_null=True)
    lifted_by = serializers.CharField(source="lifted_by.username", default=None, allow_null=True)


class SuspendOutputSerializer(SuspensionOutputSerializer):
    # What the suspension took out of the queue (rejected, reason code spam).
    places_rejected = serializers.IntegerField()
    revisions_rejected = serializers.IntegerField()
    images_rejected = serializers.IntegerField()


# --- Duplicates and merge, trust (docs/moderation.md) -------------------------------------


class LocationMergeInputSerializer(serializers.Serializer):
    # The place this one duplicates: it keeps the photos and receives the redirects.
    into = serializers.UUIDField()


class UserTrustOutputSerializer(serializers.Serializer):
    username = serializers.CharField()
    # Whether their new places and photos are approved at once, now.
    trusted = serializers.BooleanField()
    # auto (the rule), granted or withdrawn (by a moderator).
    override = serializers.ChoiceField(choices=["auto", "granted", "withdrawn"])
    set_at = serializers.CharField(allow_null=True)
