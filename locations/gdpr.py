"""The places a user submitted, in their GDPR export and erasure (accounts.gdpr)."""

from accounts.gdpr import GdprSection, export_timestamp, register_section
from locations import services
from locations.models import Location
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
    return {"places_deleted": len(doomed), "images_deleted": images}


register_section(
    GdprSection(key="locations", export=locations_export, erase=locations_erase, order=10)
)
