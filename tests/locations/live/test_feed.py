"""locations.feed: what services call to reach open maps (real Redis channel layer)."""

import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from locations import feed


def _join_map() -> str:
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(feed.MAP_GROUP, channel)
    return channel


@pytest.fixture
def map_channels():
    """Listeners in the `map` group. Each is read in one go (_receive_all): channels_redis
    binds a channel's receive buffer to the event loop of its first read."""
    joined: list[str] = []

    def join() -> str:
        joined.append(_join_map())
        return joined[-1]

    yield join
    for channel in joined:
        async_to_sync(get_channel_layer().group_discard)(feed.MAP_GROUP, channel)


def _receive_all(channel: str, *, quiet_for: float = 0.5) -> list[dict]:
    """Every message on `channel` until none has come for `quiet_for` seconds."""

    async def receive():
        messages = []
        while True:
            try:
                messages.append(
                    await asyncio.wait_for(get_channel_layer().receive(channel), quiet_for)
                )
            except TimeoutError:
                return messages

    return async_to_sync(receive)()


@pytest.mark.django_db(transaction=True)
def test_an_event_goes_out_only_when_its_transaction_commits(map_channels):
    during, after = map_channels(), map_channels()

    class Boom(Exception):
        pass

    with pytest.raises(Boom), transaction.atomic():
        feed.publish_on_commit(event=feed.EVENT_REMOVED, location_id="rolled-back", lon=1, lat=2)
        raise Boom

    with transaction.atomic():
        feed.publish_on_commit(event=feed.EVENT_REMOVED, location_id="committed", lon=1, lat=2)
        assert _receive_all(during) == []  # nothing before the commit

    assert _receive_all(after) == [
        {
            "type": "map.event",
            "event": "location.removed",
            "id": "committed",
            "lon": 1.0,
            "lat": 2.0,
            "feature": None,
        }
    ]  # and the rolled-back one never came


def test_a_moved_place_carries_its_previous_position(map_channels):
    channel = map_channels()
    feed.publish(
        event=feed.EVENT_UPDATED,
        location_id="moved",
        lon=2.35,
        lat=48.85,
        feature=None,
        previous=(13.4, 52.5),
    )
    [message] = _receive_all(channel)
    assert message["previous"] == [13.4, 52.5]


def test_an_unknown_event_name_is_a_programming_error():
    with pytest.raises(ValueError, match=r"location\.deleted"):
        feed.publish_on_commit(event="location.deleted", location_id="x", lon=0, lat=0)
