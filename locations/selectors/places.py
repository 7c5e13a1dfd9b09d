"""ORM reads of places: the detail and its Feature, own places, and the moderators'
queue and digest."""

from uuid import UUID

from django.db.models import Q, QuerySet

from accounts.selectors import user_is_moderator
from locations import constants
from locations.geojson import LocationFeatureSerializer
from locations.models import Location, LocationStatus
from media_store.selectors import images_ready_prefetch, images_visible_prefetch


def location_feature(location: Location) -> dict:
    """The GeoJSON Feature of one place (locations.geojson); `location.images` should be
    prefetched with images_ready_prefetch() (the other selectors here do that)."""
    return LocationFeatureSerializer(location).data


def location_public_feature(*, location_id, viewer=None) -> dict:
    """The Feature of a place, as GET /locations/{id} shows it to `viewer` (None: the
    public, as the live feed sends it when a place is approved: approved photos only).
    Reads inside the caller's transaction, so a place approved in it is seen as
    approved. Raises Location.DoesNotExist."""
    location = Location.objects.prefetch_related(images_visible_prefetch(user=viewer)).get(
        id=location_id
    )
    return location_feature(location)


def visible_locations(*, user) -> QuerySet[Location]:
    """Places `user` may read: approved ones for everybody, plus their own in any status,
    plus everything for moderators; each with the photos `user` may see."""
    queryset = Location.objects.prefetch_related(images_visible_prefetch(user=user))
    if user_is_moderator(user):
        return queryset
    if getattr(user, "is_authenticated", False):
        return queryset.filter(Q(status=LocationStatus.APPROVED) | Q(submitter=user))
    return queryset.filter(status=LocationStatus.APPROVED)


def location_get_visible(*, location_id, user) -> Location | None:
    """One place if `user` may see it; an unknown id and an invisible one look alike."""
    return visible_locations(user=user).filter(id=location_id).first()


def locations_of_submitter(*, user) -> QuerySet[Location]:
    """GET /me/locations: the user's own places in every status, newest first."""
    return (
        Location.objects.filter(submitter=user)
        .prefetch_related(images_visible_prefetch(user=user))
        .order_by("-created_at", "-id")
    )


# --- Moderators' reads (moderation and the digest call these) ------------------------


def locations_for_review(*, status: str = LocationStatus.PENDING) -> QuerySet[Location]:
    """Places in `status`, oldest first (the longest waiting is decided first), with
    their submitter and ready photos loaded. Served by the (status, created_at) index."""
    return (
        Location.objects.filter(status=status)
        .select_related("submitter")
        .prefetch_related(images_ready_prefetch())
        .order_by("created_at", "id")
    )


def location_for_review(*, location_id: UUID | str) -> Location:
    """One place in any status, loaded like a review queue entry. Raises
    Location.DoesNotExist."""
    return (
        Location.objects.select_related("submitter")
        .prefetch_related(images_ready_prefetch())
        .get(pk=location_id)
    )


def location_exists(*, location_id: UUID | str) -> bool:
    """Whether a place with this id exists, in any status."""
    return Location.objects.filter(pk=location_id).exists()


def locations_pending_digest(*, limit: int) -> tuple[int, list[dict]]:
    """How many places wait for review, and the `limit` oldest of them (the moderators'
    digest lists those first: they have waited longest)."""
    pending = Location.objects.filter(status=LocationStatus.PENDING)
    rows = pending.order_by("created_at", "id").values("id", "name", "category", "created_at")[
        :limit
    ]
    places = [
        {
            "location_id": str(row["id"]),
            "location_name": row["name"],
            "category": constants.CATEGORIES.get(row["category"], row["category"]),
            # isoformat(), not the GeoJSON text: the digest's context is stored with
            # its notification and has always carried this form.
            "submitted_at": row["created_at"].isoformat(),
        }
        for row in rows
    ]
    return pending.count(), places


def location_ids_of_submitter(*, user, status: str) -> list[UUID]:
    """The ids of `user`'s places in `status`, oldest first (a suspension rejects the
    pending ones)."""
    return list(
        Location.objects.filter(submitter=user, status=status)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
    )


def locations_by_id(*, location_ids) -> dict[UUID, Location]:
    """The places `location_ids` (any status) with their submitter and photos (as the
    review queue loads them), by id: two queries for a page of moderation items that
    name places (photos, flags)."""
    return {
        location.id: location
        for location in Location.objects.filter(id__in=list(location_ids))
        .select_related("submitter")
        .prefetch_related(images_ready_prefetch())
    }
