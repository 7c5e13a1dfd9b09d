"""Moderation decisions: the state machine of a place's status.

Every decision runs in one transaction that locks the place's row, writes one
ModerationLog row, records the submitter's notification and schedules the live-feed
event for after the commit. The API (moderation.api.views) and the Django admin console
(moderation.admin) both call these functions, so both have the same effects. Places are
read and written only through locations' services and selectors.

Errors are config.errors.ApplicationError subclasses: the problem+json handler answers
them (404 "No such place.", 409, 400 with the field errors), no view maps them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from functools import cache
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import IntegrityError, transaction
from django.utils import timezone
from opentelemetry import trace

from accounts.models import TrustOverride
from accounts.selectors import user_by_username, user_is_moderator
from accounts.services import suspension_create, suspension_lift, user_trust_set
from config.errors import ApplicationError, ConflictError, NotFoundError
from locations.constants import LocationStatus
from locations.events import (
    LOCATION_APPROVED,
    LOCATION_REJECTED,
    LOCATION_REVISION_APPROVED,
    LOCATION_REVISION_REJECTED,
)
from locations.selectors import (
    location_get_visible,
    location_ids_of_submitter,
    location_ids_with_pending_revision_by,
    location_pending_revision,
    locations_pending_digest,
)
from locations.services import (
    location_lock,
    location_merge_into,
    location_revert,
    location_revision_discard,
    location_revision_publish,
    location_spam_set,
    location_status_set,
    location_update,
)
from media_store.models import ImageModeration
from media_store.selectors import image_get_visible
from media_store.services import (
    image_lock,
    image_moderation_set,
    images_lock_of_location,
    images_lock_of_uploader,
)
from moderation.constants import (
    ACTION_MERGE,
    ACTION_REVERT,
    ACTION_REVISION_APPROVED,
    ACTION_REVISION_REJECTED,
    FLAG_COMMENT_MAX_LENGTH,
    FLAG_REASONS,
    REASON_CODES,
    REASON_MAX_LENGTH,
)
from moderation.events import (
    FLAG_RESOLVED_EVENT,
    IMAGE_REJECTED_EVENT,
    LOCATION_AUTO_REJECTED_EVENT,
    LOCATION_MERGED_EVENT,
)
from moderation.models import Flag, FlagStatus, ImageModerationLog, ModerationLog
from notifications.services import notify

if TYPE_CHECKING:
    from accounts.models import Suspension, User
    from locations.models import Location, LocationRevision
    from media_store.models import Image

tracer = trace.get_tracer(__name__)

PENDING = LocationStatus.PENDING
APPROVED = LocationStatus.APPROVED
REJECTED = LocationStatus.REJECTED
HIDDEN = LocationStatus.HIDDEN
MERGED = LocationStatus.MERGED

# (from, to) -> whether the decision needs a reason code and a reason text.
# approved -> rejected is a take-down of a public place; rejected -> approved a re-review.
# Nothing moves a place back to pending here: an owner's edit of a rejected place does
# that (locations). An approved place with a pending revision: the decision is on the
# revision (revision_decide), the place stays approved.
ALLOWED_TRANSITIONS: dict[tuple[str, str], bool] = {
    (PENDING, APPROVED): False,
    (PENDING, REJECTED): True,
    (APPROVED, REJECTED): True,
    (REJECTED, APPROVED): False,
    # A place hidden by flags (docs/moderation.md "Flags"): put back, or taken down.
    (HIDDEN, APPROVED): False,
    (HIDDEN, REJECTED): True,
}

# Kept for callers of the old names; defined once in locations.events.
EVENT_APPROVED = LOCATION_APPROVED
EVENT_REJECTED = LOCATION_REJECTED
EVENT_REVISION_APPROVED = LOCATION_REVISION_APPROVED
EVENT_REVISION_REJECTED = LOCATION_REVISION_REJECTED


class ModerationError(ApplicationError):
    """Base of the errors a decision can end in; nothing was written."""


class PlaceNotFound(ModerationError, NotFoundError):
    """No place has this id (the API answers 404)."""

    default_detail = "No such place."


@cache
def _place_not_found_type(does_not_exist: type[ObjectDoesNotExist]) -> type[PlaceNotFound]:
    # Also the model's own DoesNotExist, which callers of location_transition have
    # always caught (scripts, tests), without moderation importing locations.models.
    return type("PlaceNotFound", (PlaceNotFound, does_not_exist), {})


class IllegalTransition(ModerationError, ConflictError):
    """The place's current status does not allow this decision (the API answers 409)."""

    def __init__(self, *, from_status: str, to_status: str, expected_status: str | None = None):
        self.from_status = from_status
        self.to_status = to_status
        self.expected_status = expected_status
        if expected_status is not None and expected_status != from_status:
            message = (
                f"The place is now {from_status}, not {expected_status}: "
                "someone else decided on it meanwhile."
            )
        else:
            message = f"A {from_status} place cannot be {to_status}."
        super().__init__(message)


class StaleVersion(ModerationError, ConflictError):
    """The place changed (content, or a revision proposed) since the moderator saw it:
    409 with `current_version`, so the client can reload and decide again."""

    code = "stale_version"

    def __init__(self, *, expected_version: int, current_version: int):
        self.expected_version = expected_version
        self.current_version = current_version
        super().__init__(
            f"The place changed since you saw it: you saw version {expected_version}, "
            f"it is now version {current_version}. Reload it and decide again.",
            extensions={"current_version": current_version},
        )


class InvalidDecision(ModerationError):
    """The decision's input is incomplete or unknown (the API answers 400 with
    `errors` naming the fields)."""

    def __init__(self, errors: dict[str, list[str]]):
        super().__init__("; ".join(f"{k}: {' '.join(v)}" for k, v in errors.items()), errors=errors)


def decision_validate(*, to_status: str, reason_code: str, reason: str) -> dict[str, list[str]]:
    """The input errors of a decision, by field, before looking at the place. A
    rejection or take-down needs both a known reason code and a reason text."""
    errors: dict[str, list[str]] = {}
    if to_status not in (APPROVED, REJECTED):
        errors["status"] = [f"Must be one of: {APPROVED}, {REJECTED}."]
        return errors
    needs_reason = to_status == REJECTED
    if reason_code and reason_code not in REASON_CODES:
        errors["reason_code"] = [f"Unknown reason code; one of: {', '.join(REASON_CODES)}."]
    elif needs_reason and not reason_code:
        errors["reason_code"] = ["A reason code is required to reject a place."]
    if len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"At most {REASON_MAX_LENGTH} characters."]
    elif needs_reason and not reason:
        errors["reason"] = ["A reason is required to reject a place."]
    return errors


def location_transition(
    *,
    location_id: UUID | str,
    to_status: str,
    moderator: User,
    reason_code: str = "",
    reason: str = "",
    expected_status: str | None = None,
    expected_version: int | None = None,
) -> ModerationLog:
    """Move a place to `to_status` on behalf of `moderator` and record the decision;
    on an approved place with a pending revision, decide that revision instead
    (revision_decide: `approved` publishes it, `rejected` discards it).

    `expected_status` and `expected_version`, when given, are what the moderator saw:
    if the place has moved on meanwhile the decision is refused rather than applied to
    a state the moderator never looked at. Raises PlaceNotFound (also the model's
    DoesNotExist), IllegalTransition, StaleVersion, InvalidDecision or
    PermissionDenied; on any of them nothing is written.
    """
    reason = reason.strip()
    reason_code = reason_code.strip()
    errors = decision_validate(to_status=to_status, reason_code=reason_code, reason=reason)
    if errors:
        raise InvalidDecision(errors)
    if not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators decide on places.")

    with (
        tracer.start_as_current_span("placemap.moderation.transition") as span,
        transaction.atomic(),
    ):
        span.set_attribute("placemap.location.id", str(location_id))
        span.set_attribute("placemap.moderation.to_status", to_status)
        span.set_attribute("placemap.user.id", moderator.pk)
        # The row lock serialises concurrent decisions on one place: the second waits
        # here, then reads the status the first one committed and is judged against it.
        try:
            location = location_lock(location_id=location_id)
        except ObjectDoesNotExist as exc:
            # A class is hashable; django-stubs' ObjectDoesNotExist.__hash__ misleads mypy.
            raise _place_not_found_type(type(exc))() from exc  # type: ignore[arg-type]
        from_status = location.status
        span.set_attribute("placemap.moderation.from_status", from_status)
        if expected_status is not None and expected_status != from_status:
            raise IllegalTransition(
                from_status=from_status, to_status=to_status, expected_status=expected_status
            )
        _check_version(location=location, expected_version=expected_version)
        revision = location_pending_revision(location_id=location.id)
        if revision is not None and from_status == APPROVED:
            return _revision_decide(
                location=location,
                revision=revision,
                to_status=to_status,
                moderator=moderator,
                reason_code=reason_code,
                reason=reason,
            )
        if (from_status, to_status) not in ALLOWED_TRANSITIONS:
            raise IllegalTransition(from_status=from_status, to_status=to_status)

        # Photos: the place's pending photos are decided with it (section "Photos");
        # first, so the Feature the live feed gets carries the photos approved with it.
        images_follow_place(location_id=location.id, to_status=to_status, moderator=moderator)
        # Sets approved_at with the status and tells open maps after the commit.
        location_status_set(location=location, status=to_status, actor=moderator)
        log = ModerationLog.objects.create(
            location=location,
            location_ref=location.id,
            moderator=moderator,
            from_status=from_status,
            to_status=to_status,
            reason_code=reason_code,
            reason=reason,
            version=location.version,
        )
        _notify_submitter(location=location, log=log)
        _withdraw_trust_on_spam(location=location, log=log)
        span.set_attribute("placemap.moderation.log_id", log.id)
    return log


def location_approve(
    *,
    location_id: UUID | str,
    moderator: User,
    reason_code: str = "",
    reason: str = "",
    expected_status: str | None = None,
    expected_version: int | None = None,
) -> ModerationLog:
    """Approve a pending place, or re-approve a rejected one, or publish an approved
    place's pending revision."""
    return location_transition(
        location_id=location_id,
        to_status=APPROVED,
        moderator=moderator,
        reason_code=reason_code,
        reason=reason,
        expected_status=expected_status,
        expected_version=expected_version,
    )


def location_reject(
    *,
    location_id: UUID | str,
    moderator: User,
    reason_code: str,
    reason: str,
    expected_status: str | None = None,
    expected_version: int | None = None,
) -> ModerationLog:
    """Reject a pending place, take an approved one down, or discard an approved
    place's pending revision; all need a reason."""
    return location_transition(
        location_id=location_id,
        to_status=REJECTED,
        moderator=moderator,
        reason_code=reason_code,
        reason=reason,
        expected_status=expected_status,
        expected_version=expected_version,
    )


def _notify_submitter(*, location: Location, log: ModerationLog) -> None:
    # Erasure (GDPR) keeps the place but clears its submitter: nobody to tell.
    if location.submitter_id is None:
        return
    # The moderator is deliberately absent: submitters learn the decision, not who made it.
    notify(
        recipient=location.submitter,
        event=EVENT_APPROVED if log.to_status == APPROVED else EVENT_REJECTED,
        context={
            "location_id": str(location.id),
            "location_name": location.name,
            "status": log.to_status,
            "previous_status": log.from_status,
            "take_down": log.from_status == APPROVED and log.to_status == REJECTED,
            "reason_code": log.reason_code,
            "reason_label": REASON_CODES.get(log.reason_code, ""),
            "reason": log.reason,
        },
        # One notification per decision, however often the delivery is retried.
        dedupe_key=f"{log.id}",
    )


# --- Versions and revisions (docs/moderation.md, "Versions and revisions") -------------


def _check_version(*, location: Location, expected_version: int | None) -> None:
    # Under the row lock: an edit or a proposal committed before it is seen here.
    if expected_version is not None and expected_version != location.version:
        raise StaleVersion(expected_version=expected_version, current_version=location.version)


def _revision_decide(
    *,
    location: Location,
    revision: LocationRevision,
    to_status: str,
    moderator: User,
    reason_code: str,
    reason: str,
    notify_author: bool = True,
) -> ModerationLog:
    """Decide the locked, approved place's pending revision: publish or discard it. The
    place stays approved either way; the log row says which (`action`), and the owner
    is told (with the reason when discarded) unless `notify_author` is False."""
    if to_status == APPROVED:
        location_revision_publish(location=location, revision=revision, moderator=moderator)
        action = ACTION_REVISION_APPROVED
    else:
        location_revision_discard(
            location=location,
            revision=revision,
            moderator=moderator,
            reason_code=reason_code,
            reason=reason,
        )
        action = ACTION_REVISION_REJECTED
    log = ModerationLog.objects.create(
        location=location,
        location_ref=location.id,
        moderator=moderator,
        from_status=location.status,
        to_status=location.status,
        reason_code=reason_code,
        reason=reason,
        action=action,
        revision=revision,
        version=location.version,
    )
    recipient = revision.author if revision.author_id is not None else location.submitter
    if recipient is not None and notify_author:
        notify(
            recipient=recipient,
            event=(
                EVENT_REVISION_APPROVED
                if action == ACTION_REVISION_APPROVED
                else EVENT_REVISION_REJECTED
            ),
            context={
                "location_id": str(location.id),
                "location_name": location.name,
                "revision_id": str(revision.id),
                "version": location.version,
                "reason_code": reason_code,
                "reason_label": REASON_CODES.get(reason_code, ""),
                "reason": reason,
            },
            dedupe_key=f"{log.id}",
        )
    return log


def location_revert_to(
    *,
    location_id: UUID | str,
    revision_id: UUID | str,
    moderator: User,
    expected_version: int | None = None,
) -> ModerationLog:
    """Restore the content of an earlier revision of a place as its next version, on
    behalf of `moderator`, and log it (action `revert`, the new revision). Open maps
    hear `location.updated` for a public place. Raises PlaceNotFound, StaleVersion,
    PermissionDenied, or locations' RevisionNotRevertible (400 naming `revision`)."""
    if not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators revert places.")
    with tracer.start_as_current_span("placemap.moderation.revert"), transaction.atomic():
        try:
            location = location_lock(location_id=location_id)
        except ObjectDoesNotExist as exc:
            raise _place_not_found_type(type(exc))() from exc  # type: ignore[arg-type]
        _check_version(location=location, expected_version=expected_version)
        revision = location_revert(location=location, revision_id=revision_id, moderator=moderator)
        return ModerationLog.objects.create(
            location=location,
            location_ref=location.id,
            moderator=moderator,
            from_status=location.status,
            to_status=location.status,
            action=ACTION_REVERT,
            revision=revision,
            version=location.version,
        )


def moderation_digest_content(*, period: date) -> dict | None:
    """The moderators' digest for `period`: how many places wait for review and the
    oldest of them (NOTIFICATIONS_DIGEST_MAX_PLACES). None when nothing waits, so
    nobody is mailed. Registered with notifications (moderation/notification_events.py)."""
    pending_count, places = locations_pending_digest(limit=settings.NOTIFICATIONS_DIGEST_MAX_PLACES)
    if pending_count == 0:
        return None
    return {"period": period.isoformat(), "pending_count": pending_count, "places": places}


# =========================================================================================
# Photos (docs/moderation.md "Photos"): a photo's moderation status, apart from the
# place's. Photos submitted with a place are decided with it (images_follow_place, called
# by location_transition); a photo added to an approved place waits in its own queue.
# =========================================================================================

IMAGE_PENDING = ImageModeration.PENDING
IMAGE_APPROVED = ImageModeration.APPROVED
IMAGE_REJECTED = ImageModeration.REJECTED
IMAGE_HIDDEN = ImageModeration.HIDDEN

# (from, to) -> whether the decision needs a reason code and a reason text.
# rejected -> approved only while the photo's objects still exist (a suspension's
# rejection keeps them; a moderator's removes them): image_transition checks.
IMAGE_TRANSITIONS: dict[tuple[str, str], bool] = {
    (IMAGE_PENDING, IMAGE_APPROVED): False,
    (IMAGE_PENDING, IMAGE_REJECTED): True,
    (IMAGE_APPROVED, IMAGE_REJECTED): True,
    (IMAGE_HIDDEN, IMAGE_APPROVED): False,
    (IMAGE_HIDDEN, IMAGE_REJECTED): True,
    (IMAGE_REJECTED, IMAGE_APPROVED): False,
}


class ImageNotFound(ModerationError, NotFoundError):
    default_detail = "No such photo."


class ImageIllegalTransition(ModerationError, ConflictError):
    """The photo's status (or version) does not allow this decision (409)."""


def image_decision_validate(
    *, to_status: str, reason_code: str, reason: str
) -> dict[str, list[str]]:
    """A photo decision's input errors by field: the place's rules (a rejection needs a
    known reason code and a reason), worded for photos."""
    errors = decision_validate(to_status=to_status, reason_code=reason_code, reason=reason)
    return {
        field: [message.replace("a place", "a photo") for message in messages]
        for field, messages in errors.items()
    }


def _image_log(
    *, image, from_status: str, moderator: User | None, reason_code: str = "", reason: str = ""
) -> ImageModerationLog:
    return ImageModerationLog.objects.create(
        image=image,
        image_ref=image.id,
        location_ref=image.location_id,
        moderator=moderator,
        from_status=from_status,
        to_status=image.moderation_status,
        reason_code=reason_code,
        reason=reason,
    )


def image_transition(
    *,
    image_id: UUID | str,
    to_status: str,
    moderator: User,
    reason_code: str = "",
    reason: str = "",
    expected_version: int | None = None,
) -> ImageModerationLog:
    """A moderator's decision on one photo (PATCH /admin/images/{id}/status, the
    console's photo queue). `expected_version` is the version the moderator saw: a
    photo changed since is refused (409 naming the current version). A rejection
    removes the photo's objects after commit and tells the uploader why. Raises
    ImageNotFound, ImageIllegalTransition, InvalidDecision or PermissionDenied."""
    reason, reason_code = reason.strip(), reason_code.strip()
    errors = image_decision_validate(to_status=to_status, reason_code=reason_code, reason=reason)
    if errors:
        raise InvalidDecision(errors)
    if not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators decide on photos.")
    with transaction.atomic():
        try:
            image = image_lock(image_id=image_id)
        except ObjectDoesNotExist:
            raise ImageNotFound() from None
        if expected_version is not None and expected_version != image.version:
            raise ImageIllegalTransition(
                f"The photo changed since you saw it: it is at version {image.version}, "
                f"not {expected_version} (now {image.moderation_status})."
            )
        from_status = image.moderation_status
        if (from_status, to_status) not in IMAGE_TRANSITIONS:
            raise ImageIllegalTransition(f"A {from_status} photo cannot be {to_status}.")
        if to_status == IMAGE_APPROVED and image.objects_removed_at is not None:
            raise ImageIllegalTransition(
                "This photo's files were removed when it was rejected; it cannot be approved."
            )
        image_moderation_set(image=image, status=to_status)
        log = _image_log(
            image=image,
            from_status=from_status,
            moderator=moderator,
            reason_code=reason_code,
            reason=reason,
        )
        if to_status == IMAGE_REJECTED:
            _notify_uploader_of_rejection(image=image, log=log)
    return log


def images_follow_place(
    *,
    location_id: UUID | str,
    to_status: str,
    moderator: User | None,
    reason_code: str = "",
    reason: str = "",
    remove_objects: bool = True,
) -> int:
    """Decide a place's pending photos with the place (inside its decision's
    transaction): approved with it, or rejected with it (objects removed after commit
    unless `remove_objects` is False). Other statuses carry nothing. Returns how many."""
    if to_status not in (APPROVED, REJECTED):
        return 0
    images = images_lock_of_location(location_id=location_id, moderation_status=IMAGE_PENDING)
    for image in images:
        image_moderation_set(image=image, status=to_status, remove_objects=remove_objects)
        _image_log(
            image=image,
            from_status=IMAGE_PENDING,
            moderator=moderator,
            reason_code=reason_code,
            reason=reason or "Decided with its place.",
        )
    return len(images)


def _notify_uploader_of_rejection(*, image, log: ImageModerationLog) -> None:
    if image.uploader_id is None:
        return
    notify(
        recipient=image.uploader,
        event=IMAGE_REJECTED_EVENT,
        context={
            "image_id": str(image.id),
            "location_id": str(image.location_id) if image.location_id else None,
            "reason_code": log.reason_code,
            "reason_label": REASON_CODES.get(log.reason_code, ""),
            "reason": log.reason,
        },
        dedupe_key=f"image-log-{log.id}",
    )


# =========================================================================================
# Places decided without a moderator's PATCH: hidden by flags (system), put back by a
# flag's resolution, rejected by a suspension. One locked, logged step each; the place's
# own rules (location_status_set) publish the live-feed events.
# =========================================================================================


def _location_decide(
    *,
    location: Location,
    to_status: str,
    moderator: User | None,
    reason_code: str = "",
    reason: str = "",
    notify_submitter: bool = True,
    remove_photo_objects: bool = True,
) -> ModerationLog:
    """Move a place locked with location_lock to `to_status` and log it (moderator None:
    the system). The caller has checked the move."""
    from_status = location.status
    images_follow_place(
        location_id=location.id,
        to_status=to_status,
        moderator=moderator,
        reason_code=reason_code,
        reason=reason,
        remove_objects=remove_photo_objects,
    )
    location_status_set(location=location, status=to_status, actor=moderator)
    log = ModerationLog.objects.create(
        location=location,
        location_ref=location.id,
        moderator=moderator,
        from_status=from_status,
        to_status=to_status,
        reason_code=reason_code,
        reason=reason,
        version=location.version,
    )
    if notify_submitter and to_status in (APPROVED, REJECTED):
        _notify_submitter(location=location, log=log)
    return log


# =========================================================================================
# Flags (docs/moderation.md "Flags"): signed-in users report public places and photos;
# FLAG_HIDE_THRESHOLD distinct reporters hide the object until a moderator resolves
# them; resolving one flag resolves every open flag on its object.
# =========================================================================================

FLAG_TARGET_LOCATION = "location"
FLAG_TARGET_IMAGE = "image"


class FlagTargetNotFound(ModerationError, NotFoundError):
    """Unknown, or not public to the reporter: the two read alike (404)."""


class DuplicateFlag(ModerationError, ConflictError):
    default_detail = "You already have an open flag on this; a moderator will look at it."


class FlagNotFound(ModerationError, NotFoundError):
    default_detail = "No such flag."


class FlagAlreadyResolved(ModerationError, ConflictError):
    """The flag was resolved already (409), by this decision or an earlier one."""


def _flag_target_lock(*, target_type: str, target_id: UUID | str, reporter) -> Location | Image:
    """The public object a user may flag, locked (flags on one object queue here, so
    the threshold is counted once). A place must be approved; a photo approved, ready
    and on an approved place. Anything else is FlagTargetNotFound."""
    if target_type == FLAG_TARGET_LOCATION:
        visible = location_get_visible(location_id=target_id, user=reporter)
        if visible is None or visible.status != APPROVED:
            raise FlagTargetNotFound("No such place.")
        location = location_lock(location_id=target_id)
        if location.status != APPROVED:  # hidden or taken down meanwhile
            raise FlagTargetNotFound("No such place.")
        return location
    image = image_get_visible(image_id=target_id, user=reporter)
    if image is None or image.moderation_status != IMAGE_APPROVED or image.location_id is None:
        raise FlagTargetNotFound("No such photo.")
    place = location_get_visible(location_id=image.location_id, user=reporter)
    if place is None or place.status != APPROVED:
        raise FlagTargetNotFound("No such photo.")
    image = image_lock(image_id=target_id)
    if image.moderation_status != IMAGE_APPROVED:
        raise FlagTargetNotFound("No such photo.")
    return image


def _flag_filter(*, target_type: str, target_id) -> dict:
    return (
        {"location_id": target_id}
        if target_type == FLAG_TARGET_LOCATION
        else {"image_id": target_id}
    )


def flag_create(
    *, reporter: User, target_type: str, target_id: UUID | str, reason: str, comment: str = ""
) -> Flag:
    """Report a public place or photo. Raises FlagTargetNotFound (404), DuplicateFlag
    (409: the reporter's flag on it is still open) or InvalidDecision (400). When
    FLAG_HIDE_THRESHOLD distinct users have open flags on the object, it is hidden
    (a system decision, logged; a place leaves the live map)."""
    comment = comment.strip()
    errors: dict[str, list[str]] = {}
    if reason not in FLAG_REASONS:
        errors["reason"] = [f"Must be one of: {', '.join(FLAG_REASONS)}."]
    if len(comment) > FLAG_COMMENT_MAX_LENGTH:
        errors["comment"] = [f"At most {FLAG_COMMENT_MAX_LENGTH} characters."]
    if errors:
        raise InvalidDecision(errors)
    with tracer.start_as_current_span("placemap.moderation.flag") as span, transaction.atomic():
        span.set_attribute("placemap.flag.target", f"{target_type}:{target_id}")
        target = _flag_target_lock(target_type=target_type, target_id=target_id, reporter=reporter)
        where = _flag_filter(target_type=target_type, target_id=target.pk)
        try:
            with transaction.atomic():
                flag = Flag.objects.create(
                    reporter=reporter, reason=reason, comment=comment, **where
                )
        except IntegrityError:
            # flag_one_open_per_user_*: the partial unique constraint is the rule.
            raise DuplicateFlag() from None
        reporters = (
            Flag.objects.filter(status=FlagStatus.OPEN, **where)
            .values("reporter_id")
            .distinct()
            .count()
        )
        if reporters >= settings.FLAG_HIDE_THRESHOLD:
            _hide_flagged(target=target, target_type=target_type, reporters=reporters)
    return flag


def _hide_flagged(*, target, target_type: str, reporters: int) -> None:
    reason = f"Hidden automatically: {reporters} users flagged it."
    if target_type == FLAG_TARGET_LOCATION:
        _location_decide(
            location=target,
            to_status=HIDDEN,
            moderator=None,
            reason_code="flagged",
            reason=reason,
            notify_submitter=False,
        )
    else:
        from_status = image_moderation_set(image=target, status=IMAGE_HIDDEN)
        _image_log(
            image=target,
            from_status=from_status,
            moderator=None,
            reason_code="flagged",
            reason=reason,
        )


@dataclass(frozen=True)
class TakeDown:
    reason_code: str
    reason: str


def flag_resolve(
    *,
    flag_id: int,
    moderator: User,
    resolution: str,
    note: str = "",
    take_down: TakeDown | None = None,
    changes: dict | None = None,
) -> list[Flag]:
    """Resolve a flag and, with it, every open flag on the same object; returns them.

    "dismissed": nothing was wrong; a hidden object is public again. "actioned": the
    flags were right; with `take_down` the object is rejected (reason required; a photo's
    objects leave storage), with `changes` (places only) the moderator edits the place
    (locations.services.location_update), and an object not taken down is public again.
    Each reporter is notified once. Raises FlagNotFound, FlagAlreadyResolved,
    InvalidDecision, PermissionDenied, or the take-down's and edit's own errors; on any
    of them nothing is written."""
    note = note.strip()
    errors: dict[str, list[str]] = {}
    if resolution not in (FlagStatus.DISMISSED, FlagStatus.ACTIONED):
        errors["resolution"] = [f"Must be one of: {FlagStatus.DISMISSED}, {FlagStatus.ACTIONED}."]
    elif resolution == FlagStatus.DISMISSED and (take_down is not None or changes):
        errors["resolution"] = ["take_down and changes need the resolution actioned."]
    if take_down is not None:
        for field, messages in decision_validate(
            to_status=REJECTED, reason_code=take_down.reason_code, reason=take_down.reason.strip()
        ).items():
            errors[f"take_down.{field}"] = messages
    if len(note) > REASON_MAX_LENGTH:
        errors["note"] = [f"At most {REASON_MAX_LENGTH} characters."]
    if errors:
        raise InvalidDecision(errors)
    if not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators resolve flags.")

    if not 0 < flag_id < 2**63:  # a path integer beyond the id column's range
        raise FlagNotFound()
    first = Flag.objects.filter(id=flag_id).values("location_id", "image_id").first()
    if first is None:
        raise FlagNotFound()
    target_type = FLAG_TARGET_LOCATION if first["location_id"] else FLAG_TARGET_IMAGE
    target_id = first["location_id"] or first["image_id"]
    if changes and target_type != FLAG_TARGET_LOCATION:
        raise InvalidDecision({"changes": ["Only a place's flags can carry changes."]})

    with transaction.atomic():
        # The object first (as flag_create), then its flags: no lock-order inversion.
        try:
            target: Location | Image = (
                location_lock(location_id=target_id)
                if target_type == FLAG_TARGET_LOCATION
                else image_lock(image_id=target_id)
            )
        except ObjectDoesNotExist:
            raise FlagNotFound() from None  # its object (and so the flag) was deleted
        where = _flag_filter(target_type=target_type, target_id=target_id)
        flag = Flag.objects.select_for_update().filter(id=flag_id).first()
        if flag is None:
            raise FlagNotFound()
        if flag.status != FlagStatus.OPEN:
            raise FlagAlreadyResolved(f"This flag was {flag.status} already.")
        flags = list(
            Flag.objects.select_for_update().filter(status=FlagStatus.OPEN, **where).order_by("id")
        )

        taken_down = False
        if take_down is not None:
            if target_type == FLAG_TARGET_LOCATION:
                location_transition(
                    location_id=target_id,
                    to_status=REJECTED,
                    moderator=moderator,
                    reason_code=take_down.reason_code,
                    reason=take_down.reason,
                )
            else:
                image_transition(
                    image_id=target_id,
                    to_status=IMAGE_REJECTED,
                    moderator=moderator,
                    reason_code=take_down.reason_code,
                    reason=take_down.reason,
                )
            taken_down = True
        if changes:
            location_update(location=target, actor=moderator, **changes)  # type: ignore[arg-type]
        if not taken_down:
            _unhide(target=target, target_type=target_type, moderator=moderator, note=note)

        now = timezone.now()
        for each in flags:
            each.status = resolution
            each.resolved_by = moderator
            each.resolved_at = now
            each.note = note
            each.save(update_fields=["status", "resolved_by", "resolved_at", "note"])
            _notify_reporter(flag=each)
    return flags


def _unhide(*, target, target_type: str, moderator: User, note: str) -> None:
    reason = note or "Flags resolved."
    if target_type == FLAG_TARGET_LOCATION:
        location = location_lock(location_id=target.pk)  # fresh: an edit may have saved it
        if location.status == HIDDEN:
            _location_decide(
                location=location,
                to_status=APPROVED,
                moderator=moderator,
                reason=reason,
                notify_submitter=False,
            )
    else:
        image = image_lock(image_id=target.pk)
        if image.moderation_status == IMAGE_HIDDEN:
            image_moderation_set(image=image, status=IMAGE_APPROVED)
            _image_log(image=image, from_status=IMAGE_HIDDEN, moderator=moderator, reason=reason)


def _notify_reporter(*, flag: Flag) -> None:
    # The moderator's note stays internal: reporters learn the outcome, not the notes.
    notify(
        recipient=flag.reporter,
        event=FLAG_RESOLVED_EVENT,
        context={
            "flag_id": flag.id,
            "target_type": flag.target_type,
            "location_id": str(flag.location_id) if flag.location_id else None,
            "image_id": str(flag.image_id) if flag.image_id else None,
            "reason": flag.reason,
            "resolution": flag.status,
        },
        # Once per flag, however often it is delivered.
        dedupe_key=f"flag-{flag.id}",
    )


# =========================================================================================
# Suspension (docs/moderation.md "Suspension"): accounts keeps the record and refuses
# a suspended user's writes; here the moderator's act, which also takes the user's
# pending content out of the queue (rejected, reason code spam, reversible).
# =========================================================================================

SUSPENSION_REASON_CODE = "spam"


class UserNotFound(ModerationError, NotFoundError):
    default_detail = "No such user."


class SelfSuspension(ModerationError):
    """A moderator named their own account (400)."""

    default_detail = "You cannot suspend your own account."


@dataclass(frozen=True)
class SuspensionResult:
    suspension: Suspension
    places_rejected: int = 0
    revisions_rejected: int = 0
    images_rejected: int = 0


def user_suspend(
    *, username: str, moderator: User | None, reason: str, until: datetime | None = None
) -> SuspensionResult:
    """Suspend `username` (moderator None: an operator's command) and reject their
    pending places, revisions and photos (reason code spam; photo objects are kept, so a moderator
    can approve them again). Raises UserNotFound, InvalidDecision, PermissionDenied or
    accounts.services.AlreadySuspended (409)."""
    reason = reason.strip()
    errors: dict[str, list[str]] = {}
    if not reason:
        errors["reason"] = ["A reason is required to suspend an account."]
    elif len(reason) > REASON_MAX_LENGTH:
        errors["reason"] = [f"At most {REASON_MAX_LENGTH} characters."]
    if until is not None and until <= timezone.now():
        errors["until"] = ["Must be in the future."]
    if errors:
        raise InvalidDecision(errors)
    if moderator is not None and not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators suspend accounts.")
    with tracer.start_as_current_span("placemap.moderation.suspend"), transaction.atomic():
        try:
            user = user_by_username(username=username)
        except ObjectDoesNotExist:
            raise UserNotFound() from None
        if moderator is not None and user.pk == moderator.pk:
            # Nobody could lift it from their own account's API: another moderator must.
            raise SelfSuspension()
        suspension = suspension_create(user=user, reason=reason, until=until, created_by=moderator)
        why = f"Account suspended: {reason}"
        # Every pending photo of theirs is rejected: with its place below, or after it.
        images_rejected = len(
            images_lock_of_uploader(uploader=user, moderation_status=IMAGE_PENDING)
        )
        places = revisions = 0
        for location_id in location_ids_of_submitter(user=user, status=PENDING):
            location = location_lock(location_id=location_id)
            if location.status != PENDING:
                continue
            _location_decide(
                location=location,
                to_status=REJECTED,
                moderator=moderator,
                reason_code=SUSPENSION_REASON_CODE,
                reason=why,
                notify_submitter=False,
                remove_photo_objects=False,
            )
            places += 1
        # Their edits awaiting review are discarded too; the places stay as approved.
        for location_id in location_ids_with_pending_revision_by(user=user):
            location = location_lock(location_id=location_id)
            revision = location_pending_revision(location_id=location_id)
            if revision is None or revision.author_id != user.pk:
                continue
            _revision_decide(
                location=location,
                revision=revision,
                to_status=REJECTED,
                moderator=moderator,  # type: ignore[arg-type]  # None: an operator's command
                reason_code=SUSPENSION_REASON_CODE,
                reason=why,
                notify_author=False,
            )
            revisions += 1
        images = images_lock_of_uploader(uploader=user, moderation_status=IMAGE_PENDING)
        for image in images:
            image_moderation_set(image=image, status=IMAGE_REJECTED, remove_objects=False)
            _image_log(
                image=image,
                from_status=IMAGE_PENDING,
                moderator=moderator,
                reason_code=SUSPENSION_REASON_CODE,
                reason=why,
            )
    return SuspensionResult(
        suspension=suspension,
        places_rejected=places,
        revisions_rejected=revisions,
        images_rejected=images_rejected,
    )


def user_unsuspend(*, username: str, moderator: User | None) -> Suspension:
    """Lift the suspension that applies to `username`. The content it rejected stays
    rejected until a moderator approves it. Raises UserNotFound, PermissionDenied or
    accounts.services.NotSuspended (409)."""
    if moderator is not None and not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators lift suspensions.")
    with transaction.atomic():
        try:
            user = user_by_username(username=username)
        except ObjectDoesNotExist:
            raise UserNotFound() from None
        return suspension_lift(user=user, lifted_by=moderator)


# =========================================================================================
# Duplicates and merge (docs/moderation.md "Duplicates and merge").
# =========================================================================================


class MergeConflict(ModerationError, ConflictError):
    """A merge into itself, into a merged place, or of a merged place (409)."""


def location_merge(
    *, location_id: UUID | str, into_id: UUID | str, moderator: User
) -> ModerationLog:
    """Merge a place into another (its duplicate) on behalf of `moderator`: photos move
    to the target, the place becomes `merged` (off every public read, its detail 301s
    to the target), its log and revisions stay, its submitter is told, open maps hear
    location.removed for it and location.updated for the target. Logged (action
    `merge`, reason code `duplicate`). Raises PlaceNotFound (either place),
    MergeConflict or PermissionDenied; on any of them nothing is written."""
    if not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators merge places.")
    if str(location_id) == str(into_id):
        raise MergeConflict("A place cannot be merged into itself.")
    with tracer.start_as_current_span("placemap.moderation.merge"), transaction.atomic():
        # Both rows locked in id order: two merges of the same pair cannot deadlock.
        locked = {}
        for each in sorted((str(location_id), str(into_id))):
            try:
                locked[each] = location_lock(location_id=each)
            except ObjectDoesNotExist as exc:
                raise _place_not_found_type(type(exc))() from exc  # type: ignore[arg-type]
        location, target = locked[str(location_id)], locked[str(into_id)]
        if location.status == MERGED:
            raise MergeConflict(f"This place was merged into {location.merged_into_id} already.")
        if target.status == MERGED:
            raise MergeConflict(
                f"The place {target.id} was itself merged into {target.merged_into_id}; "
                "merge into that one."
            )
        from_status = location.status
        location_merge_into(location=location, target=target, actor=moderator)
        log = ModerationLog.objects.create(
            location=location,
            location_ref=location.id,
            moderator=moderator,
            from_status=from_status,
            to_status=MERGED,
            reason_code="duplicate",
            reason=f"Merged into {target.id} ({target.name}).",
            action=ACTION_MERGE,
            version=location.version,
        )
        if location.submitter_id is not None:
            notify(
                recipient=location.submitter,
                event=LOCATION_MERGED_EVENT,
                context={
                    "location_id": str(location.id),
                    "location_name": location.name,
                    "into_id": str(target.id),
                    "into_name": target.name,
                },
                dedupe_key=f"{log.id}",
            )
    return log


# =========================================================================================
# Trust tiers and spam (docs/moderation.md "Trust tiers", "Spam score"): every submission
# and owner's edit is scored (submission_review, registered with locations); a score at
# or above SPAM_REJECT_SCORE rejects it as spam, else a trusted submitter's new place is
# approved at once. Both are system decisions (moderator None), logged.
# =========================================================================================

REASON_TRUSTED = "trusted"
SPAM_REASON_CODE = "spam"


def _withdraw_trust_on_spam(*, location: Location, log: ModerationLog) -> None:
    """A rejection for spam ends a moderator's grant of trust (the rule itself then
    keeps the user untrusted for TRUST_WINDOW_DAYS)."""
    if log.to_status != REJECTED or log.reason_code != SPAM_REASON_CODE:
        return
    submitter = location.submitter
    if submitter is not None and submitter.trust_override == TrustOverride.GRANTED:
        user_trust_set(user=submitter, override=TrustOverride.AUTO, by=None)


def submission_review(submission) -> None:
    """The submission hook (locations.submission_hooks): score it, store the score, and
    reject it as spam or approve a trusted submitter's new place. Runs inside the
    submission's transaction."""
    from moderation.spam import spam_score
    from moderation.trust import user_is_trusted

    score, signals = spam_score(submission)
    location_spam_set(location_id=submission.location_id, score=score, signals=signals)
    location = location_lock(location_id=submission.location_id)
    if score >= settings.SPAM_REJECT_SCORE:
        _reject_as_spam(location=location, submission=submission, score=score, signals=signals)
        return
    if (
        submission.kind == "submit"
        and location.status == PENDING
        and user_is_trusted(submission.actor)
    ):
        _location_decide(
            location=location,
            to_status=APPROVED,
            moderator=None,
            reason_code=REASON_TRUSTED,
            reason="Approved automatically: the submitter is trusted.",
            notify_submitter=False,
        )


def _reject_as_spam(*, location: Location, submission, score: int, signals: list[dict]) -> None:
    names = ", ".join(signal["name"] for signal in signals)
    reason = f"Rejected automatically: spam score {score} ({names})."
    if submission.revision_id is not None:
        revision = location_pending_revision(location_id=location.id)
        if revision is None or revision.id != submission.revision_id:
            return
        location_revision_discard(
            location=location,
            revision=revision,
            moderator=None,
            reason_code=SPAM_REASON_CODE,
            reason=reason,
        )
        ModerationLog.objects.create(
            location=location,
            location_ref=location.id,
            moderator=None,
            from_status=location.status,
            to_status=location.status,
            reason_code=SPAM_REASON_CODE,
            reason=reason,
            action=ACTION_REVISION_REJECTED,
            revision=revision,
            version=location.version,
        )
    elif location.status == PENDING:
        # Its photos stay pending (not public: the place is not): a moderator approving
        # the place approves them with it, so the reversal is complete.
        location_status_set(location=location, status=REJECTED)
        log = ModerationLog.objects.create(
            location=location,
            location_ref=location.id,
            moderator=None,
            from_status=PENDING,
            to_status=REJECTED,
            reason_code=SPAM_REASON_CODE,
            reason=reason,
            version=location.version,
        )
        _withdraw_trust_on_spam(location=location, log=log)
    else:
        return
    if location.submitter_id is not None:
        # Neutral words: the submitter is not called a spammer by a machine.
        notify(
            recipient=location.submitter,
            event=LOCATION_AUTO_REJECTED_EVENT,
            context={
                "location_id": str(location.id),
                "location_name": location.name,
                "edit": submission.revision_id is not None,
            },
            dedupe_key=f"auto-{location.id}-v{location.version}",
        )


def image_attached_review(*, image) -> None:
    """The upload hook (media_store.targets): a trusted uploader's photo on an approved
    place is approved at once (a photo on a pending place waits to follow its place)."""
    from moderation.trust import user_is_trusted

    if image.moderation_status != IMAGE_PENDING or not user_is_trusted(image.uploader):
        return
    location = location_lock(location_id=image.location_id)
    if location.status != APPROVED:
        return
    image_moderation_set(image=image, status=IMAGE_APPROVED)
    _image_log(
        image=image,
        from_status=IMAGE_PENDING,
        moderator=None,
        reason_code=REASON_TRUSTED,
        reason="Approved automatically: the uploader is trusted.",
    )


class TrustUserNotFound(ModerationError, NotFoundError):
    default_detail = "No such user."


def user_trust_grant(*, username: str, moderator: User | None) -> User:
    """A moderator trusts `username` by hand: their new places and photos are approved
    at once until withdrawn (or a spam rejection). Raises TrustUserNotFound."""
    return _trust_set(username=username, moderator=moderator, override=TrustOverride.GRANTED)


def user_trust_withdraw(*, username: str, moderator: User | None) -> User:
    """A moderator withdraws `username`'s trust: nothing of theirs is approved at once,
    whatever the rule says, until granted again. Raises TrustUserNotFound."""
    return _trust_set(username=username, moderator=moderator, override=TrustOverride.WITHDRAWN)


def _trust_set(*, username: str, moderator: User | None, override: str) -> User:
    if moderator is not None and not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators change trust.")
    with transaction.atomic():
        try:
            user = user_by_username(username=username)
        except ObjectDoesNotExist:
            raise TrustUserNotFound() from None
        return user_trust_set(user=user, override=override, by=moderator)
