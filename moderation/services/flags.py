"""Flags: signed-in users report public places and photos (docs/moderation.md "Flags")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import IntegrityError, transaction
from opentelemetry import trace

from accounts.selectors import user_is_moderator
from config.errors import ConflictError, NotFoundError
from locations.selectors import (
    location_get_visible,
)
from locations.services import (
    location_lock,
    location_update,
)
from media_store.selectors import image_get_visible
from media_store.services import (
    image_lock,
    image_moderation_set,
)
from moderation.constants import (
    FLAG_COMMENT_MAX_LENGTH,
    FLAG_REASONS,
    REASON_MAX_LENGTH,
)
from moderation.models import Flag, FlagStatus
from moderation.services.base import (
    APPROVED,
    HIDDEN,
    REJECTED,
    InvalidDecision,
    ModerationError,
    _flags_close,
    decision_validate,
)
from moderation.services.photos import (
    IMAGE_APPROVED,
    IMAGE_HIDDEN,
    IMAGE_REJECTED,
    _image_log,
    image_transition,
)
from moderation.services.places import location_decide, location_transition

if TYPE_CHECKING:
    from accounts.models import User
    from locations.models import Location
    from media_store.models import Image

tracer = trace.get_tracer(__name__)


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
        location_decide(
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

        # The flags first: a take-down below then finds none left open to settle.
        _flags_close(flags=flags, resolution=resolution, moderator=moderator, note=note)
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
    return flags


def _unhide(*, target, target_type: str, moderator: User, note: str) -> None:
    reason = note or "Flags resolved."
    if target_type == FLAG_TARGET_LOCATION:
        location = location_lock(location_id=target.pk)  # fresh: an edit may have saved it
        if location.status == HIDDEN:
            location_decide(
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
