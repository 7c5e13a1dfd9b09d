"""One end-to-end run: a real uvicorn process serving config.asgi on a loopback port,
a real websocket client, the real Redis channel layer and the pytest test database."""

import json
import time

import pytest
from django.db import transaction
from websockets.sync.client import connect

from locations import feed
from tests.locations.factories import LocationFactory


def test_a_real_server_pushes_a_committed_approval_to_a_websocket_client(asgi_server):
    place = LocationFactory(approved=True)
    lon, lat = place.point.x, place.point.y
    feature = {
        "type": "Feature",
        "id": str(place.id),
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": place.name, "category": place.category},
    }
    url = (
        f"ws://127.0.0.1:{asgi_server}/ws/map/?bbox={lon - 0.1},{lat - 0.1},{lon + 0.1},{lat + 0.1}"
    )

    with connect(url, origin=f"http://127.0.0.1:{asgi_server}", open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"

        with transaction.atomic():
            feed.publish_on_commit(
                event=feed.EVENT_APPROVED, location_id=place.id, lon=lon, lat=lat, feature=feature
            )
            time.sleep(0.2)  # nothing may leave before the commit
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.3)

        message = json.loads(ws.recv(timeout=5))

    assert message == {
        "type": "location.approved",
        "id": str(place.id),
        "lon": lon,
        "lat": lat,
        "feature": feature,
    }
