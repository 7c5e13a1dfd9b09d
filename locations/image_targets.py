"""The places app's answer to media_store's attach-target registry: a photo uploaded with
a `location_id` may go only to a place its uploader submitted (any status)."""

from uuid import UUID

from locations.models import Location
from media_store.targets import ImageTargetInvalid


def location_owned_check(*, uploader, target_id: UUID, lock: bool) -> None:
    places = Location.objects.filter(id=target_id, submitter=uploader)
    if lock:
        # Holds the place until the image row commits, so a concurrent delete of the
        # place cannot slip between this check and the insert.
        places = places.select_for_update()
    if not places.values_list("id", flat=True).first():
        raise ImageTargetInvalid()
