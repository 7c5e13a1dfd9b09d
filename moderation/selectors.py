"""Reads for moderators: the queue of places to decide on and the audit trail."""

from uuid import UUID

from django.db.models import Prefetch, QuerySet

from locations.models import Location, LocationStatus
from media_store.models import Image, ImageStatus
from moderation.models import ModerationLog


def moderation_images_prefetch() -> Prefetch:
    """The photos a moderator looks at: the ready ones (a failed or still-processing
    upload has no thumbnail), oldest first. One query for a whole page of places."""
    return Prefetch(
        "images",
        queryset=Image.objects.filter(status=ImageStatus.READY).order_by("created_at", "id"),
    )


def moderation_queue(*, status: str = LocationStatus.PENDING) -> QuerySet[Location]:
    """Places in `status`, oldest first (the longest waiting is decided first), with
    their submitter and photos loaded. Served by the (status, created_at) index."""
    return (
        Location.objects.filter(status=status)
        .select_related("submitter")
        .prefetch_related(moderation_images_prefetch())
        .order_by("created_at", "id")
    )


def moderation_location(*, location_id: UUID | str) -> Location:
    """One place in any status, loaded like a queue entry. Raises Location.DoesNotExist."""
    return (
        Location.objects.select_related("submitter")
        .prefetch_related(moderation_images_prefetch())
        .get(pk=location_id)
    )


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
        Location.objects.filter(pk=location_id).exists()
        or ModerationLog.objects.filter(location_ref=location_id).exists()
    )
