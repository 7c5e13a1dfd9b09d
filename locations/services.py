"""Writes of places: submit, edit, delete. Status decisions of moderators live in
moderation.services; these functions only send an owner's edit back to review."""

from collections.abc import Sequence
from uuid import UUID

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from opentelemetry import trace

from accounts.selectors import user_is_moderator
from locations import events, feed
from locations.models import Location, LocationStatus
from locations.selectors import location_public_feature
from media_store.services import ImagesNotAttachable, images_attach
from notifications.services import notify

tracer = trace.get_tracer(__name__)


def location_create(
    *,
    submitter,
    name: str,
    category: str,
    latitude: float,
    longitude: float,
    description: str = "",
    address: str = "",
    image_ids: Sequence[UUID] = (),
) -> Location:
    """Submit a place for review, attaching the submitter's own unattached photos.

    The place, the photos' attachment and the submission notification commit together or
    not at all. Raises ValidationError({"image_ids": ...}) for a photo that is unknown,
    not the submitter's, failed, or already attached (including by a concurrent request).
    """
    with tracer.start_as_current_span("placemap.locations.create") as span, transaction.atomic():
        image_ids = list(image_ids)
        location = Location.objects.create(
            submitter=submitter,
            name=name.strip(),
            description=description.strip(),
            category=category,
            address=address.strip(),
            point=Point(longitude, latitude, srid=4326),
            status=LocationStatus.PENDING,
        )
        try:
            # Locks the photos (a concurrent submission naming one waits, then finds it
            # attached); a refusal rolls the place back with them.
            images_attach(image_ids=image_ids, uploader=submitter, location_id=location.id)
        except ImagesNotAttachable as exc:
            raise ValidationError({"image_ids": [exc.detail]}) from None
        span.set_attribute("placemap.location.id", str(location.id))
        span.set_attribute("placemap.location.images", len(image_ids))
        if submitter is not None:
            notify(
                recipient=submitter,
                event=events.LOCATION_SUBMITTED,
                context={"location_id": str(location.id), "location_name": location.name},
                dedupe_key=str(location.id),
            )
    return location


def location_update(
    *,
    location: Location,
    actor,
    name: str | None = None,
    description: str | None = None,
    category: str | None = None,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
) -> Location:
    """Edit a place (its owner or a moderator; the caller checks who may).

    An owner's real change sends an approved or rejected place back to review (pending):
    a published place must not change behind the moderators' back. A moderator's edit
    keeps the status. The live map hears `location.removed` when a public place leaves
    it and `location.updated` when a public place changes.
    """
    if (latitude is None) != (longitude is None):
        raise ValidationError({"latitude": ["Send latitude and longitude together."]})
    with tracer.start_as_current_span("placemap.locations.update") as span, transaction.atomic():
        # Lock: a moderator's approval racing this edit must see it or be seen by it.
        location = Location.objects.select_for_update().get(pk=location.pk)
        was_public = location.status == LocationStatus.APPROVED
        old_position = (location.point.x, location.point.y)
        changed: list[str] = []
        values = {
            "name": name,
            "description": description,
            "category": category,
            "address": address,
        }
        for field, value in values.items():
            if value is None:
                continue
            value = value.strip()
            if getattr(location, field) != value:
                setattr(location, field, value)
                changed.append(field)
        if latitude is not None:
            point = Point(longitude, latitude, srid=4326)
            if not location.point.equals_exact(point, tolerance=1e-9):
                location.point = point
                changed.append("point")
        span.set_attribute("placemap.location.id", str(location.id))
        span.set_attribute("placemap.location.changed", ",".join(changed))
        if not changed:
            return location

        if location.status != LocationStatus.PENDING and not user_is_moderator(actor):
            location.status = LocationStatus.PENDING
            location.approved_at = None
            changed += ["status", "approved_at"]
        location.save(update_fields=[*changed, "updated_at"])

        # Maps showing the old position must hear about a move too.
        previous = old_position if "point" in changed else None
        if was_public and location.status != LocationStatus.APPROVED:
            feed.publish_on_commit(
                event=events.LOCATION_REMOVED,
                location_id=location.id,
                lon=old_position[0],
                lat=old_position[1],
            )
        elif was_public:
            feed.publish_on_commit(
                event=events.LOCATION_UPDATED,
                location_id=location.id,
                lon=location.point.x,
                lat=location.point.y,
                feature=location_public_feature(location_id=location.id),
                previous=previous,
            )
    return location


def location_delete(*, location: Location) -> None:
    """Delete a place and its photos. Photo objects leave storage once the deletion has
    committed (media_store.signals); a public place also leaves the live map."""
    with tracer.start_as_current_span("placemap.locations.delete") as span, transaction.atomic():
        span.set_attribute("placemap.location.id", str(location.id))
        location = Location.objects.select_for_update().get(pk=location.pk)
        if location.status == LocationStatus.APPROVED:
            feed.publish_on_commit(
                event=events.LOCATION_REMOVED,
                location_id=location.id,
                lon=location.point.x,
                lat=location.point.y,
            )
        # Image rows are deleted by the ORM cascade (not by Postgres) so that each
        # post_delete signal schedules its objects' removal.
        location.delete()


def location_lock(*, location_id: UUID | str) -> Location:
    """The place, its row locked (SELECT ... FOR UPDATE) until the caller's transaction
    ends: concurrent decisions on one place queue here and each sees the status the one
    before it committed. Call inside transaction.atomic(). Raises Location.DoesNotExist."""
    return Location.objects.select_for_update().get(pk=location_id)


def location_status_set(*, location: Location, status: str) -> None:
    """Move a place (locked with location_lock) to `status` and tell open maps.

    Approving stamps approved_at (the database refuses it on any other status) and
    publishes the place's Feature once the transaction commits; a place leaving
    `approved` is removed from the maps. A pending place never was on one, so rejecting
    it publishes nothing. Whether the move is allowed is the caller's decision.
    """
    from_status = location.status
    location.status = status
    location.approved_at = timezone.now() if status == LocationStatus.APPROVED else None
    location.save(update_fields=["status", "approved_at", "updated_at"])

    lon, lat = location.point.x, location.point.y
    if status == LocationStatus.APPROVED:
        feed.publish_on_commit(
            event=events.LOCATION_APPROVED,
            location_id=location.id,
            lon=lon,
            lat=lat,
            # Built inside the transaction: it sees the place as approved.
            feature=location_public_feature(location_id=location.id),
        )
    elif from_status == LocationStatus.APPROVED:
        feed.publish_on_commit(
            event=events.LOCATION_REMOVED, location_id=location.id, lon=lon, lat=lat, feature=None
        )
