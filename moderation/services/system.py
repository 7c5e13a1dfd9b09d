"""Places decided without a moderator's PATCH: by the system (flags, spam) or in bulk
(suspension)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from locations.services import (
    location_status_set,
)
from moderation.models import ModerationLog
from moderation.services.base import APPROVED, REJECTED
from moderation.services.photos import images_follow_place
from moderation.services.places import _notify_submitter

if TYPE_CHECKING:
    from accounts.models import User
    from locations.models import Location


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
