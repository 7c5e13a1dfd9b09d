"""Publishing place changes to the live map feed (ws /ws/map/, docs/live-feed.md).

Services call `publish_on_commit` inside their transaction; the event goes out only if
the transaction commits. Consumers in the `map` group filter by their own bbox.
"""

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction
from opentelemetry import trace

from config.breakers import guard_redis
from locations import tile_cache
from locations.events import FEED_EVENTS, LOCATION_APPROVED, LOCATION_REMOVED, LOCATION_UPDATED

MAP_GROUP = "map"
# The names are locations.events'; these aliases keep older callers working.
EVENT_APPROVED = LOCATION_APPROVED
EVENT_UPDATED = LOCATION_UPDATED
EVENT_REMOVED = LOCATION_REMOVED
EVENTS = FEED_EVENTS

tracer = trace.get_tracer(__name__)


def publish(
    *,
    event: str,
    location_id: str,
    lon: float,
    lat: float,
    feature: dict | None,
    previous: tuple[float, float] | None = None,
) -> None:
    """Send one event to every open map. `previous` is the (lon, lat) a moved place had,
    so that maps showing the old position also hear that it left."""
    if event not in EVENTS:
        raise ValueError(f"Unknown live feed event {event!r}.")
    message = {
        "type": "map.event",
        "event": event,
        "id": str(location_id),
        "lon": float(lon),
        "lat": float(lat),
        "feature": feature,
    }
    if previous is not None:
        message["previous"] = [float(previous[0]), float(previous[1])]
    with tracer.start_as_current_span("placemap.live.publish") as span:
        span.set_attribute("placemap.live.event", event)
        span.set_attribute("placemap.location.id", str(location_id))
        # Behind the Redis breaker: while Redis is known to be down the send fails at once
        # instead of holding the committed request for the channel layer's timeouts.
        guard_redis(
            lambda: async_to_sync(get_channel_layer().group_send)(MAP_GROUP, message),
            role="channel_layer",
        )


def publish_on_commit(
    *,
    event: str,
    location_id,
    lon: float,
    lat: float,
    feature: dict | None = None,
    previous: tuple[float, float] | None = None,
) -> None:
    if event not in EVENTS:
        raise ValueError(f"Unknown live feed event {event!r}.")
    transaction.on_commit(
        lambda: publish(
            event=event,
            location_id=location_id,
            lon=lon,
            lat=lat,
            feature=feature,
            previous=previous,
        ),
        # The decision is committed; a feed outage must not turn it into an error
        # (Django logs the failure with its traceback).
        robust=True,
    )
    # The map changed: tiles remembered for revalidation are stale (locations.tile_cache).
    tile_cache.map_changed_on_commit()
