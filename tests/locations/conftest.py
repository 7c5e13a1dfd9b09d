import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer

from locations import feed
from tests.locations.factories import LocationFactory

API = "/api/v1"


class MapFeedListener:
    """A member of the live feed's channel-layer group (real Redis), as a map is."""

    def __init__(self):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(feed.MAP_GROUP, self.channel)

    def receive(self, timeout: float = 2.0) -> dict:
        async def _receive():
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        return async_to_sync(_receive)()

    def received_nothing(self, timeout: float = 0.3) -> bool:
        try:
            self.receive(timeout=timeout)
        except TimeoutError:
            return True
        return False

    def close(self):
        async_to_sync(self.layer.group_discard)(feed.MAP_GROUP, self.channel)


@pytest.fixture
def map_feed():
    listener = MapFeedListener()
    yield listener
    listener.close()


@pytest.fixture
def place_of(db):
    """place_of(owner, status="approved", lon=..., lat=..., **fields)."""

    def make(owner, status="approved", *, lon=13.4050, lat=52.5200, **fields):
        from django.contrib.gis.geos import Point

        return LocationFactory(
            submitter=owner,
            point=Point(lon, lat, srid=4326),
            approved=(status == "approved"),
            **({} if status == "approved" else {"status": status}),
            **fields,
        )

    return make
