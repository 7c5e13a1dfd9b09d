"""Reads for moderators: the queue of places to decide on and the audit trail.

Places are read through locations' selectors; this module adds what moderation owns
(the decisions) and its own not-found error."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import QuerySet

from locations.constants import LocationStatus
from locations.selectors import location_exists, location_for_review, locations_for_review
from moderation.models import ModerationLog
from moderation.services import PlaceNotFound

if TYPE_CHECKING:
    from locations.models import Location


def moderation_queue(*, status: str = LocationStatus.PENDING) -> QuerySet[Location]:
    """Places in `status`, oldest first (the longest waiting is decided first), with
    their submitter and ready photos loaded. Served by the (status, created_at) index."""
    return locations_for_review(status=status)


def moderation_location(*, location_id: UUID | str) -> Location:
    """One place in any status, loaded like a queue entry. Raises PlaceNotFound."""
    try:
        return location_for_review(location_id=location_id)
    except ObjectDoesNotExist:
        raise PlaceNotFound() from None


def location_moderation_log(*, location_id: UUID | str) -> QuerySet[ModerationLog]:
    """Every decision on a place, oldest first. Looked up by the kept place id, so the
    trail is still there after the place was deleted."""
    return (
        ModerationLog.objects.filter(location_ref=location_id)
        .select_related("moderator")
        .order_by("created_at", "id")
    )


def location_has_moderation_trail(*, location_id: UUID | str) -> bool:
    """Whether there is anything to show for this id: the place, or decisions on it."""
    return (
        location_exists(location_id=location_id)
        or ModerationLog.objects.filter(location_ref=location_id).exists()
    )
