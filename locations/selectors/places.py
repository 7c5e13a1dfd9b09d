"""ORM reads of places: the detail and its Feature, own places, and the moderators'
queue and digest."""

from uuid import UUID

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.db.models.functions import Coalesce

from accounts.selectors import user_is_moderator
from config.timestamps import utc_timestamp
from locations.categories import category_label, category_label_translations
from locations.constants import RevisionStatus
from locations.geojson import LocationFeatureSerializer
from locations.models import Location, LocationRevision, LocationStatus
from locations.revisions import content_changes, content_of
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
    """GET /me/locations: the user's own places in every status, newest first, with
    each one's pending revision (the owner's edit awaiting review) prefetched."""
    return (
        Location.objects.filter(submitter=user)
        .prefetch_related(images_visible_prefetch(user=user), pending_revisions_prefetch())
        .order_by("-created_at", "-id")
    )


# --- Moderators' reads (moderation and the digest call these) ------------------------


def locations_for_review(*, status: str = LocationStatus.PENDING) -> QuerySet[Location]:
    """Places in `status`, oldest first (the longest waiting is decided first), with
    their submitter, ready photos and pending revision loaded. The pending queue also
    holds the approved places with a pending revision, ordered by when it was proposed."""
    queryset: QuerySet[Location]
    if status == LocationStatus.PENDING:
        pending_revision = _pending_revision_of_row()
        queryset = (
            Location.objects.filter(review_queue_filter())
            .annotate(
                queued_at=Coalesce(
                    Subquery(pending_revision.values("created_at")[:1]), "created_at"
                )
            )
            .order_by("queued_at", "id")
        )
    else:
        queryset = Location.objects.filter(status=status).order_by("created_at", "id")
    return queryset.select_related("submitter").prefetch_related(
        images_ready_prefetch(), pending_revisions_prefetch()
    )


def _pending_revision_of_row() -> QuerySet[LocationRevision]:
    return LocationRevision.objects.filter(location=OuterRef("pk"), status=RevisionStatus.PENDING)


def review_queue_filter() -> Q:
    """The places waiting for a moderator: pending ones, and approved ones with a
    pending revision (the API's and the console's pending queue)."""
    return Q(status=LocationStatus.PENDING) | Q(Exists(_pending_revision_of_row()))


def location_for_review(*, location_id: UUID | str) -> Location:
    """One place in any status, loaded like a review queue entry. Raises
    Location.DoesNotExist."""
    return (
        Location.objects.select_related("submitter")
        .prefetch_related(images_ready_prefetch(), pending_revisions_prefetch())
        .get(pk=location_id)
    )


# --- Versions and revisions ------------------------------------------------------------


def pending_revisions_prefetch() -> Prefetch:
    """Loads a place's pending revision (at most one) into `location.pending_revisions`."""
    return Prefetch(
        "revisions",
        queryset=LocationRevision.objects.filter(status=RevisionStatus.PENDING).select_related(
            "author"
        ),
        to_attr="pending_revisions",
    )


def location_pending_revision(*, location_id: UUID | str) -> LocationRevision | None:
    """The place's pending revision (an owner's edit awaiting review), or None."""
    return (
        LocationRevision.objects.filter(location_id=location_id, status=RevisionStatus.PENDING)
        .select_related("author")
        .first()
    )


def location_revisions(*, location_id: UUID | str) -> QuerySet[LocationRevision]:
    """Every revision of a place, newest first (GET /locations/{id}/revisions)."""
    return (
        LocationRevision.objects.filter(location_id=location_id)
        .select_related("author", "decided_by", "location")
        .order_by("-created_at", "-id")
    )


def revision_dict(
    revision: LocationRevision,
    *,
    as_moderator: bool,
    viewer_id: int | None = None,
    location: Location | None = None,
) -> dict:
    """A revision as the API shows it: who, when, what changed (before/after), and the
    decision. A pending revision's diff is against the place as it is now (`location`,
    else its own), which is what approving it would publish. Only moderators (and the
    author) see who wrote a revision and who decided it: an owner sees their own name."""
    if revision.status == RevisionStatus.PENDING:
        place = location if location is not None else revision.location
        changes = content_changes(content_of(place), content_of(revision))
    else:
        changes = revision.changes or {}
    moderator = as_moderator
    author = revision.author
    show_author = author is not None and (moderator or author.pk == viewer_id)
    return {
        "id": str(revision.id),
        "version": revision.version,
        "base_version": revision.base_version,
        "status": revision.status,
        "source": revision.source,
        "author": author.username if show_author and author is not None else None,
        "created_at": utc_timestamp(revision.created_at),
        "changes": changes,
        "reverted_from": str(revision.reverted_from_id) if revision.reverted_from_id else None,
        "decided_by": (
            revision.decided_by.username if moderator and revision.decided_by is not None else None
        ),
        "decided_at": utc_timestamp(revision.decided_at),
        "reason_code": revision.reason_code,
        "reason": revision.reason,
    }


def location_pending_revision_dict(
    location: Location, *, as_moderator: bool, viewer_id: int | None = None
) -> dict | None:
    """The place's pending revision as revision_dict shows it, or None. Uses
    `location.pending_revisions` when prefetched (pending_revisions_prefetch)."""
    if hasattr(location, "pending_revisions"):
        revision = location.pending_revisions[0] if location.pending_revisions else None
    else:
        revision = location_pending_revision(location_id=location.id)
    if revision is None:
        return None
    return revision_dict(
        revision, as_moderator=as_moderator, viewer_id=viewer_id, location=location
    )


def location_merged_into(*, location_id: UUID | str) -> UUID | None:
    """The id of the place a merged place was merged into; None for any other place
    (or none at all). GET /locations/{id} redirects there, for everybody."""
    return (
        Location.objects.filter(pk=location_id, status=LocationStatus.MERGED)
        .values_list("merged_into_id", flat=True)
        .first()
    )


def location_exists(*, location_id: UUID | str) -> bool:
    """Whether a place with this id exists, in any status."""
    return Location.objects.filter(pk=location_id).exists()


def locations_pending_digest(*, limit: int) -> tuple[int, list[dict]]:
    """How many places wait for review, and the `limit` oldest of them (the moderators'
    digest lists those first: they have waited longest)."""
    # Pending places and approved ones with an edit to review: the queue.
    pending = Location.objects.filter(review_queue_filter())
    rows = pending.order_by("created_at", "id").values("id", "name", "category", "created_at")[
        :limit
    ]
    places = [
        {
            "location_id": str(row["id"]),
            "location_name": row["name"],
            # The digest's context is stored with its notification and rendered later in
            # each moderator's language: English, and the label in every language.
            "category": category_label(row["category"]),
            "category_labels": category_label_translations(row["category"]),
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


def location_ids_with_pending_revision_by(*, user) -> list[UUID]:
    """The ids of the places on which `user` has a pending revision (a suspension
    rejects them), oldest proposal first."""
    return list(
        LocationRevision.objects.filter(author=user, status=RevisionStatus.PENDING)
        .order_by("created_at", "id")
        .values_list("location_id", flat=True)
    )


def locations_by_id(*, location_ids, pending_revision: bool = False) -> dict[UUID, Location]:
    """The places `location_ids` (any status) with their submitter and photos (as the
    review queue loads them), by id: two queries for a page of moderation items that
    name places (photos, flags); with `pending_revision`, a third loads each place's
    pending revision (for items that show the whole place, not a brief)."""
    prefetches = [images_ready_prefetch()]
    if pending_revision:
        prefetches.append(pending_revisions_prefetch())
    return {
        location.id: location
        for location in Location.objects.filter(id__in=list(location_ids))
        .select_related("submitter")
        .prefetch_related(*prefetches)
    }


# --- Trust and spam signals (moderation.trust, moderation.spam) ------------------------


def locations_count_of_submitter(*, user, status: str | None = None, since=None) -> int:
    """How many places `user` submitted (in `status`; created at or after `since`).
    Served by location_submitter_created."""
    queryset = Location.objects.filter(submitter=user)
    if status is not None:
        queryset = queryset.filter(status=status)
    if since is not None:
        queryset = queryset.filter(created_at__gte=since)
    return queryset.count()


def locations_with_text_count(*, user, field: str, text: str, exclude_id: UUID | str, since) -> int:
    """How many other places of `user` created since `since` (any status but merged)
    carry exactly `text` in `field` (name or description), case-insensitively: the same
    text pasted across places. One submitter's recent places only, so the scan stays on
    location_submitter_created at any table size."""
    if field not in ("name", "description"):
        raise ValueError(f"Not a text field of a place: {field!r}")
    return (
        Location.objects.filter(submitter=user, created_at__gte=since)
        .filter(**{f"{field}__iexact": text})
        .exclude(pk=exclude_id)
        .exclude(status=LocationStatus.MERGED)
        .count()
    )
