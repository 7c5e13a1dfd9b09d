"""The notifications a place's own life raises (autodiscovered by notifications)."""

from django.conf import settings

from locations.events import LOCATION_SUBMITTED
from notifications.events import Event, register_event


def place_url(location_id: str) -> str:
    return f"{settings.SITE_URL}/api/v1/locations/{location_id}"


def add_place_url(payload: dict) -> dict:
    return {"place_url": place_url(payload["location_id"])}


register_event(
    Event(
        LOCATION_SUBMITTED,
        "notifications/location_submitted",
        frozenset({"location_id", "location_name"}),
        context=add_place_url,
    )
)
