"""The places a user submitted, the revisions they wrote and the audit rows that name
them, in their GDPR export and erasure (accounts.gdpr)."""

from accounts.gdpr import GdprSection, export_timestamp, register_section
from locations import services
from locations.models import Location, LocationRevision
from media_store import selectors as image_selectors


def locations_export(*, user) -> list[dict]:
    return [
        {
            "id": str(place.id),
            "name": place.name,
            "description": place.description,
            "category": place.category,
            "address": place.address,
            "longitude": place.point.x,
            "latitude": place.point.y,
            "status": place.status,
            "external_id": place.external_id,
            "created_at": export_timestamp(place.created_at),
            "updated_at": export_timestamp(place.updated_at),
            "approved_at": export_timestamp(place.approved_at),
            # An automatic judgement about their submission (docs/moderation.md).
            "merged_into": str(place.merged_into_id) if place.merged_into_id else None,
            "spam_score": place.spam_score,
            "spam_signals": place.spam_signals,
        }
        for place in Location.objects.filter(submitter=user).order_by("created_at", "id")
    ]


def locations_erase(*, user, delete_places: bool) -> dict[str, int]:
    """Delete the user's places through location_delete (photos, and the live map for
    public ones), or keep them without a submitter."""
    places = Location.objects.filter(submitter=user)
    if not delete_places:
        # update() leaves updated_at alone: the place's content did not change.
        return {"places_anonymized": places.update(submitter=None)}
    # Locked up front, in id order: a moderator deleting one of them meanwhile waits
    # for the erasure instead of making location_delete miss it.
    doomed = list(places.select_for_update().order_by("id"))
    # Every photo on them goes, whoever uploaded it: counted before the cascade.
    images = image_selectors.images_count(location_ids=[place.id for place in doomed])
    for place in doomed:
        services.location_delete(location=place)
    # Their audit rows hold the user's words too (their revisions went by CASCADE).
    Location.history.filter(id__in=[place.id for place in doomed]).delete()
    return {"places_deleted": len(doomed), "images_deleted": images}


register_section(
    GdprSection(key="locations", export=locations_export, erase=locations_erase, order=10)
)


# --- Versions and revisions: what the user proposed or changed, and the audit rows ---


def location_revisions_export(*, user) -> list[dict]:
    """Every revision the user wrote on their own places (proposals and applied
    versions), with its content and how it was decided (not by whom: that is the
    moderator's data). What a moderator wrote on someone else's place is that place's
    history, not theirs (as with moderation decisions)."""
    return [
        {
            "id": str(revision.id),
            "location_id": str(revision.location_id),
            "version": revision.version,
            "status": revision.status,
            "source": revision.source,
            "name": revision.name,
            "description": revision.description,
            "category": revision.category,
            "address": revision.address,
            "longitude": revision.point.x,
            "latitude": revision.point.y,
            "created_at": export_timestamp(revision.created_at),
            "decided_at": export_timestamp(revision.decided_at),
            "reason_code": revision.reason_code,
            "reason": revision.reason,
        }
        for revision in LocationRevision.objects.filter(
            author=user, location__submitter=user
        ).order_by("created_at", "id")
    ]


def location_revisions_erase(*, user, delete_places: bool) -> dict[str, int]:
    """Proposals still waiting are withdrawn; decided and applied revisions stay (they
    are the places' history) without their author. Decisions the user took as a
    moderator stay without their name. (Revisions of deleted places went with them.)"""
    LocationRevision.objects.filter(author=user, status="pending").delete()
    LocationRevision.objects.filter(author=user).update(author=None)
    LocationRevision.objects.filter(decided_by=user).update(decided_by=None)
    return {}


def location_history_export(*, user) -> list[dict]:
    """The audit rows of the changes the user made to their own places (simple-history's
    history_user): which place, when, what kind of change, which version (the content
    is in `locations` and `location_revisions`). A moderator's rows on someone else's
    place are that place's history, not theirs."""
    return [
        {
            "location_id": str(row.id),
            "changed_at": export_timestamp(row.history_date),
            "change": row.get_history_type_display(),
            "reason": row.history_change_reason,
            "version": row.version,
        }
        for row in Location.history.filter(history_user=user, submitter_id=user.pk).order_by(
            "history_date", "history_id"
        )
    ]


def location_history_erase(*, user, delete_places: bool) -> dict[str, int]:
    """The audit rows stay (the places' trail) without naming the user: neither as the
    one who changed a place nor as its submitter (history's submitter_id is a plain
    column, no foreign key to clear it)."""
    Location.history.filter(history_user=user).update(history_user=None)
    Location.history.filter(submitter_id=user.pk).update(submitter_id=None)
    return {}


register_section(
    GdprSection(
        key="location_revisions",
        export=location_revisions_export,
        erase=location_revisions_erase,
        order=11,
    )
)
register_section(
    GdprSection(
        key="location_history",
        export=location_history_export,
        erase=location_history_erase,
        order=12,
    )
)
