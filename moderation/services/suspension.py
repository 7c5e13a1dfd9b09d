"""Suspending abusive accounts (docs/moderation.md "Suspension")."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from django.utils import timezone
from opentelemetry import trace

from accounts.selectors import user_by_username, user_is_moderator
from accounts.services import suspension_create, suspension_lift
from config.errors import NotFoundError
from locations.selectors import (
    location_ids_of_submitter,
    location_ids_with_pending_revision_by,
    location_pending_revision,
)
from locations.services import (
    location_lock,
)
from media_store.services import (
    image_moderation_set,
    images_lock_of_uploader,
)
from moderation.constants import (
    REASON_MAX_LENGTH,
)
from moderation.services.base import PENDING, REJECTED, InvalidDecision, ModerationError
from moderation.services.photos import IMAGE_PENDING, IMAGE_REJECTED, _image_log
from moderation.services.places import _revision_decide, location_decide

if TYPE_CHECKING:
    from accounts.models import Suspension, User

tracer = trace.get_tracer(__name__)


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
            location_decide(
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
