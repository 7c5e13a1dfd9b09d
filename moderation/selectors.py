"""Reads for moderators: the queue of places to decide on and the audit trail.

Places are read through locations' selectors; this module adds what moderation owns
(the decisions) and its own not-found error."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist
from django.db.models import Min, Q, QuerySet

from locations.constants import LocationStatus
from locations.selectors import (
    location_exists,
    location_for_review,
    locations_by_id,
    locations_for_review,
)
from media_store.models import ImageModeration
from media_store.selectors import image_for_review, images_by_id, images_for_review
from moderation.models import Flag, FlagStatus, ImageModerationLog, ModerationLog
from moderation.services import ImageNotFound, PlaceNotFound

if TYPE_CHECKING:
    from locations.models import Location
    from media_store.models import Image


# The queue's orderings besides the default (oldest first).
QUEUE_ORDERINGS = ("spam_score", "-spam_score")


def moderation_queue(
    *, status: str = LocationStatus.PENDING, ordering: str | None = None
) -> QuerySet[Location]:
    """Places in `status`, oldest first (the longest waiting is decided first), or by
    spam score (`ordering`, ties oldest first), with their submitter and ready photos
    loaded. Served by the (status, created_at) index."""
    queryset = locations_for_review(status=status)
    if ordering is not None:
        if ordering not in QUEUE_ORDERINGS:
            raise ValueError(f"Unknown queue ordering {ordering!r}")
        queryset = queryset.order_by(ordering, "created_at", "id")
    return queryset


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


# --- Photos ------------------------------------------------------------------------------


def images_queue(*, status: str = ImageModeration.PENDING) -> QuerySet[Image]:
    """Photos on places in moderation `status`, oldest first, with their uploader."""
    return images_for_review(status=status)


def moderation_image(*, image_id: UUID | str) -> Image:
    """One photo in any status. Raises ImageNotFound."""
    try:
        return image_for_review(image_id=image_id)
    except ObjectDoesNotExist:
        raise ImageNotFound() from None


def places_of_images(images) -> dict:
    """The places of a page of photos, by id, in one query (and one for their photos)."""
    return locations_by_id(location_ids={i.location_id for i in images if i.location_id})


def image_moderation_log(*, image_id: UUID | str) -> QuerySet[ImageModerationLog]:
    """Every decision on a photo, oldest first (kept after the photo is deleted)."""
    return (
        ImageModerationLog.objects.filter(image_ref=image_id)
        .select_related("moderator")
        .order_by("created_at", "id")
    )


# --- Flags -------------------------------------------------------------------------------


def flagged_objects(*, status: str = FlagStatus.OPEN) -> QuerySet:
    """One row per flagged object with flags in `status` (`location_id`, `image_id`,
    `first_flagged_at`), the object flagged longest ago first. Paginate it, then build
    the page's items with flagged_items()."""
    return (
        Flag.objects.filter(status=status)
        .values("location_id", "image_id")
        .annotate(first_flagged_at=Min("created_at"))
        .order_by("first_flagged_at", "location_id", "image_id")
    )


def flagged_items(rows, *, status: str = FlagStatus.OPEN) -> tuple[list[dict], dict]:
    """The items of a page of flagged_objects(): each object (place or photo) and every
    flag in `status` on it, oldest first; and the places they name, by id (a photo's
    place too). A fixed number of queries whatever the page's length."""
    rows = list(rows)
    location_ids = {row["location_id"] for row in rows if row["location_id"]}
    image_ids = {row["image_id"] for row in rows if row["image_id"]}
    flags = (
        Flag.objects.filter(status=status)
        .filter(Q(location_id__in=location_ids) | Q(image_id__in=image_ids))
        .select_related("reporter", "resolved_by")
        .order_by("created_at", "id")
    )
    by_object: dict = {}
    for flag in flags:
        by_object.setdefault(flag.location_id or flag.image_id, []).append(flag)
    images = images_by_id(image_ids=image_ids)
    places = locations_by_id(
        location_ids=location_ids | {i.location_id for i in images.values() if i.location_id},
        pending_revision=True,  # a flagged place is shown whole, with its pending edit
    )
    items = []
    for row in rows:
        key = row["location_id"] or row["image_id"]
        items.append(
            {
                "target_type": "location" if row["location_id"] else "image",
                "location": places.get(row["location_id"]) if row["location_id"] else None,
                "image": images.get(row["image_id"]) if row["image_id"] else None,
                "flags": by_object.get(key, []),
                "first_flagged_at": row["first_flagged_at"],
            }
        )
    return items, places
