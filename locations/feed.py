"""Publishing place changes to the live map feed (ws /ws/map/).

Services call `publish_on_commit` inside their transaction; the event goes out only if
the transaction commits. Consumers in the `map` group filter by their own bbox.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

MAP_GROUP = "map"
EVENT_APPROVED = "location.approved"
EVENT_UPDATED = "location.updated"
EVENT_REMOVED = "location.removed"


def publish(*, event: str, location_id: str, lon: float, lat: float, feature: dict | None) -> None:
    layer = get_channel_layer()
    async_to_sync(layer.group_send)(
        MAP_GROUP,
        {
            "type": "map.event",
            "event": event,
            "id": str(location_id),
            "lon": lon,
            "lat": lat,
            "feature": feature,
        },
    )


def publish_on_commit(
    *, event: str, location_id, lon: float, lat: float, feature: dict | None = None
) -> None:
    transaction.on_commit(
        lambda: publish(event=event, location_id=location_id, lon=lon, lat=lat, feature=feature),
        # The decision is committed; a feed outage must not turn it into an error.
        robust=True,
    )
