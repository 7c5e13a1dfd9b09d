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

from datetime import date
from functools import cache
from typing import TYPE_CHECKING
from uuid import UUID

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from opentelemetry import trace

from accounts.selectors import user_is_moderator
from config.errors import ApplicationError, ConflictError, NotFoundError
from locations.constants import LocationStatus
from locations.events import (
    LOCATION_APPROVED,
    LOCATION_REJECTED,
    LOCATION_REVISION_APPROVED,
    LOCATION_REVISION_REJECTED,
)
from locations.selectors import location_pending_revision, locations_pending_digest
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
    REASON_MAX_LENGTH,
)
from moderation.models import ModerationLog
from notifications.services import notify

if TYPE_CHECKING:
    from accounts.models import User
    from locations.models import Location, LocationRevision

tracer = trace.get_tracer(__name__)

PENDING = LocationStatus.PENDING
APPROVED = LocationStatus.APPROVED
REJECTED = LocationStatus.REJECTED

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
) -> ModerationLog:
    """Decide the locked, approved place's pending revision: publish or discard it. The
    place stays approved either way; the log row says which (`action`), and the owner
    is told (with the reason when discarded)."""
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
    if recipient is not None:
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
