"""The vocabulary of moderation decisions: statuses, allowed moves, errors, and the
validation every decision shares."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING

from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from accounts.models import TrustOverride
from accounts.services import user_trust_set
from config.errors import ApplicationError, ConflictError, NotFoundError
from locations.constants import LocationStatus
from locations.events import (
    LOCATION_APPROVED,
    LOCATION_REJECTED,
    LOCATION_REVISION_APPROVED,
    LOCATION_REVISION_REJECTED,
)
from moderation.constants import (
    REASON_CODES,
    REASON_MAX_LENGTH,
)
from moderation.events import FLAG_RESOLVED_EVENT
from moderation.models import Flag, FlagStatus, ModerationLog
from notifications.services import notify

if TYPE_CHECKING:
    from accounts.models import User
    from locations.models import Location


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


# Trust and spam (moderation.services.trust): shared with every decision that may
# reject for spam.
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


def _flags_close(*, flags: list[Flag], resolution: str, moderator: User, note: str) -> None:
    """Resolve `flags` (open, locked by the caller) as `resolution` and tell each
    reporter once. The moderator's note stays internal: reporters learn the outcome."""
    now = timezone.now()
    for flag in flags:
        flag.status = resolution
        flag.resolved_by = moderator
        flag.resolved_at = now
        flag.note = note
        flag.save(update_fields=["status", "resolved_by", "resolved_at", "note"])
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


def _flags_settle(*, where: dict, put_back: bool, moderator: User, note: str) -> None:
    """A hidden object decided outside its flags (a status PATCH, the console): its
    open flags end with the decision, as if resolved through them. Put back: the
    reporters were wrong (dismissed); taken down: they were right (actioned)."""
    flags = list(
        Flag.objects.select_for_update().filter(status=FlagStatus.OPEN, **where).order_by("id")
    )
    resolution = FlagStatus.DISMISSED if put_back else FlagStatus.ACTIONED
    _flags_close(flags=flags, resolution=resolution, moderator=moderator, note=note)
