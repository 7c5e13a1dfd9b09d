"""Decisions on photos, apart from their place's (docs/moderation.md "Photos")."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction

from accounts.selectors import user_is_moderator
from config.errors import ConflictError, NotFoundError
from media_store.models import ImageModeration
from media_store.services import (
    image_lock,
    image_moderation_set,
    images_lock_of_location,
)
from moderation.constants import (
    REASON_CODES,
)
from moderation.events import (
    IMAGE_REJECTED_EVENT,
)
from moderation.models import ImageModerationLog
from moderation.services.base import (
    APPROVED,
    REJECTED,
    InvalidDecision,
    ModerationError,
    _flags_settle,
    decision_validate,
)
from notifications.services import notify

if TYPE_CHECKING:
    from accounts.models import User


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
        if from_status == IMAGE_HIDDEN:
            _flags_settle(
                where={"image_id": image.id},
                put_back=to_status == IMAGE_APPROVED,
                moderator=moderator,
                note=reason,
            )
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
