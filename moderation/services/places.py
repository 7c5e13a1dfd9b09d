"""Decisions on places: approve, reject or take down, the pending revision of an
approved place, revert, and the submitter's notice. See docs/moderation.md."""

from __future__ import annotations

from datetime import date
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from opentelemetry import trace

from accounts.selectors import user_is_moderator
from locations.selectors import (
    location_pending_revision,
    locations_pending_digest,
)
from locations.services import (
    location_lock,
    location_revert,
    location_revision_discard,
    location_revision_publish,
    location_status_set,
)
from moderation.constants import (
    ACTION_REVERT,
    ACTION_REVISION_APPROVED,
    ACTION_REVISION_REJECTED,
    REASON_CODES,
)
from moderation.models import ModerationLog
from moderation.services.base import (
    ALLOWED_TRANSITIONS,
    APPROVED,
    EVENT_APPROVED,
    EVENT_REJECTED,
    EVENT_REVISION_APPROVED,
    EVENT_REVISION_REJECTED,
    HIDDEN,
    REJECTED,
    IllegalTransition,
    InvalidDecision,
    StaleVersion,
    _flags_settle,
    _place_not_found_type,
    _withdraw_trust_on_spam,
    decision_validate,
)
from moderation.services.photos import images_follow_place
from notifications.services import notify

if TYPE_CHECKING:
    from accounts.models import User
    from locations.models import Location, LocationRevision

tracer = trace.get_tracer(__name__)


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

        log = location_decide(
            location=location,
            to_status=to_status,
            moderator=moderator,
            reason_code=reason_code,
            reason=reason,
        )
        _withdraw_trust_on_spam(location=location, log=log)
        if from_status == HIDDEN:
            _flags_settle(
                where={"location_id": location.id},
                put_back=to_status == APPROVED,
                moderator=moderator,
                note=reason,
            )
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


def location_decide(
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
    the system). The caller has checked the move. Every decision takes this step: a
    moderator's (location_transition), a flag's, a suspension's, the spam check's."""
    from_status = location.status
    # Photos: the place's pending photos are decided with it, with the decision's reason
    # (section "Photos"); first, so the Feature the live feed gets carries the photos
    # approved with it.
    images_follow_place(
        location_id=location.id,
        to_status=to_status,
        moderator=moderator,
        reason_code=reason_code,
        reason=reason,
        remove_objects=remove_photo_objects,
    )
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
    if notify_submitter and to_status in (APPROVED, REJECTED):
        _notify_submitter(location=location, log=log)
    return log


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
