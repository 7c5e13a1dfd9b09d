"""The live map feed through the full ASGI stack (origin check, auth, routing, consumer)
with the real Redis channel layer."""

import asyncio
import copy
import json
import signal
import time

import pytest
from asgiref.sync import sync_to_async
from channels.testing import WebsocketCommunicator

from config.asgi import application
from config.channel_layer import RedisChannelLayer
from locations import feed
from locations.consumers import CLOSE_FLOODING, CLOSE_INVALID_BBOX, MessageRateLimiter, Verdict

pytestmark = pytest.mark.anyio

BERLIN = (13.405, 52.52)
PARIS = (2.3522, 48.8566)
BERLIN_BBOX = "13.0,52.3,13.8,52.7"
ORIGIN = (b"origin", b"http://testserver")


async def open_feed(bbox: str | None = BERLIN_BBOX, origin=ORIGIN) -> WebsocketCommunicator:
    path = "/ws/map/" if bbox is None else f"/ws/map/?bbox={bbox}"
    communicator = WebsocketCommunicator(application, path, headers=[origin])
    connected, _ = await communicator.connect()
    assert connected
    return communicator


async def publish(event: str, lon: float, lat: float, *, id_: str = "p1", previous=None):
    feature = None
    if event != feed.EVENT_REMOVED:
        feature = {
            "type": "Feature",
            "id": id_,
            "geometry": {"type": "Point", "coordinates": [lon, lat]},
            "properties": {"name": f"place {id_}"},
        }
    await sync_to_async(feed.publish)(
        event=event, location_id=id_, lon=lon, lat=lat, feature=feature, previous=previous
    )


async def test_a_client_receives_an_approval_inside_its_bbox_and_nothing_outside():
    client = await open_feed()
    assert await client.receive_json_from() == {
        "type": "subscribed",
        "bbox": [13.0, 52.3, 13.8, 52.7],
    }

    await publish(feed.EVENT_APPROVED, *PARIS, id_="paris")
    await publish(feed.EVENT_APPROVED, *BERLIN, id_="berlin")

    # Published after Paris on the same group: if Paris had got through it would be first.
    message = await client.receive_json_from(timeout=2)
    assert message["type"] == "location.approved"
    assert message["id"] == "berlin"
    assert message["feature"]["geometry"]["coordinates"] == list(BERLIN)
    assert await client.receive_nothing(timeout=0.3)
    await client.disconnect()


async def test_it_follows_a_subscribe_message_to_a_new_window():
    client = await open_feed()
    await client.receive_json_from()

    await client.send_json_to({"type": "subscribe", "bbox": [2.2, 48.8, 2.5, 48.9]})
    assert await client.receive_json_from() == {
        "type": "subscribed",
        "bbox": [2.2, 48.8, 2.5, 48.9],
    }
    await publish(feed.EVENT_APPROVED, *BERLIN, id_="berlin")
    await publish(feed.EVENT_REMOVED, *PARIS, id_="paris")

    message = await client.receive_json_from(timeout=2)
    assert message == {
        "type": "location.removed",
        "id": "paris",
        "lon": PARIS[0],
        "lat": PARIS[1],
        "feature": None,
    }
    assert await client.receive_nothing(timeout=0.3)
    await client.disconnect()


async def test_a_window_across_the_antimeridian_gets_both_sides_and_not_the_middle():
    client = await open_feed("170,-25,-170,-10")
    await client.receive_json_from()

    await publish(feed.EVENT_APPROVED, 0.0, -18.0, id_="atlantic")
    await publish(feed.EVENT_APPROVED, 178.44, -18.14, id_="suva")
    await publish(feed.EVENT_APPROVED, -175.2, -21.13, id_="nukualofa")

    ids = [(await client.receive_json_from(timeout=2))["id"] for _ in range(2)]
    assert ids == ["suva", "nukualofa"]
    assert await client.receive_nothing(timeout=0.3)
    await client.disconnect()


async def test_a_place_that_moved_out_of_the_window_still_reaches_it():
    client = await open_feed()
    await client.receive_json_from()

    await publish(feed.EVENT_UPDATED, *PARIS, id_="mover", previous=BERLIN)

    message = await client.receive_json_from(timeout=2)
    assert (message["type"], message["id"], message["lon"]) == ("location.updated", "mover", 2.3522)
    await client.disconnect()


@pytest.mark.parametrize(
    ("frame", "code", "field"),
    [
        ("this is not json", "invalid_message", None),
        (json.dumps([1, 2, 3]), "invalid_message", None),
        (json.dumps({"type": "unsubscribe"}), "invalid_message", None),
        (json.dumps({"type": "subscribe", "bbox": [1, 2]}), "invalid_bbox", "bbox"),
        (json.dumps({"type": "subscribe", "bbox": [0, 0, 200, 10]}), "invalid_bbox", "bbox"),
        (json.dumps({"type": "subscribe", "bbox": "x" * 5000}), "invalid_message", None),
    ],
)
async def test_garbage_gets_an_error_frame_and_the_window_stays(frame, code, field):
    client = await open_feed()
    await client.receive_json_from()

    await client.send_to(text_data=frame)
    error = await client.receive_json_from()
    assert error["type"] == "error"
    assert error["code"] == code
    assert error.get("field") == field
    assert error["detail"]

    # Still connected, still watching Berlin.
    await publish(feed.EVENT_APPROVED, *BERLIN, id_="berlin")
    assert (await client.receive_json_from(timeout=2))["id"] == "berlin"
    await client.disconnect()


async def test_a_binary_frame_gets_an_error_frame():
    client = await open_feed()
    await client.receive_json_from()
    await client.send_to(bytes_data=b"\x00\x01")
    assert (await client.receive_json_from())["code"] == "invalid_message"
    await client.disconnect()


@pytest.mark.parametrize("bbox", [None, "1,2,3", "0,0,181,10", "a,b,c,d"])
async def test_a_bad_bbox_on_connect_gets_an_error_frame_then_a_close(bbox):
    client = await open_feed(bbox)
    error = await client.receive_json_from()
    assert (error["type"], error["code"], error["field"]) == ("error", "invalid_bbox", "bbox")
    assert await client.receive_output() == {"type": "websocket.close", "code": CLOSE_INVALID_BBOX}
    await client.disconnect()


async def test_a_flooding_client_is_throttled_then_closed(settings):
    settings.LIVE_FEED_MAX_MESSAGES_PER_SECOND = 3
    settings.LIVE_FEED_FLOOD_CLOSE_AFTER = 5
    client = await open_feed()
    await client.receive_json_from()

    subscribe = {"type": "subscribe", "bbox": [2.2, 48.8, 2.5, 48.9]}
    for _ in range(10):
        await client.send_json_to(subscribe)

    frames = [await client.receive_json_from() for _ in range(5)]
    assert [f["type"] for f in frames[:3]] == ["subscribed"] * 3
    assert (frames[3]["code"], frames[3]["retry_after"]) == ("rate_limited", 1)
    assert frames[4]["code"] == "flooding"
    assert await client.receive_output() == {"type": "websocket.close", "code": CLOSE_FLOODING}
    await client.disconnect()


async def test_a_foreign_origin_is_refused():
    communicator = WebsocketCommunicator(
        application, f"/ws/map/?bbox={BERLIN_BBOX}", headers=[(b"origin", b"https://evil.test")]
    )
    connected, _ = await communicator.connect()
    assert not connected
    await communicator.disconnect()


def test_the_rate_limiter_forgives_a_client_after_a_calm_second():
    now = [0.0]
    limiter = MessageRateLimiter(per_second=2, close_after=3, clock=lambda: now[0])
    assert [limiter.hit() for _ in range(4)] == [
        Verdict.OK,
        Verdict.OK,
        Verdict.THROTTLED,
        Verdict.DROPPED,
    ]
    now[0] = 1.5  # an excess window ends: the two drops still count
    assert [limiter.hit() for _ in range(3)] == [Verdict.OK, Verdict.OK, Verdict.FLOODING]

    limiter = MessageRateLimiter(per_second=2, close_after=3, clock=lambda: now[0])
    assert [limiter.hit() for _ in range(4)][-1] is Verdict.DROPPED
    now[0] = 3.0
    assert limiter.hit() is Verdict.OK  # window after the excess one: still counted
    now[0] = 4.5
    limiter.hit()  # a calm window ended
    assert [limiter.hit() for _ in range(2)] == [Verdict.OK, Verdict.THROTTLED]


async def test_a_client_leaving_while_redis_hangs_is_let_go_without_an_error(
    settings, throwaway_redis
):
    settings.REDIS_TIMEOUT = 0.5
    layer = copy.deepcopy(settings.CHANNEL_LAYERS)
    layer["default"]["CONFIG"]["hosts"][0]["address"] = (
        f"redis://127.0.0.1:{throwaway_redis.port}/0"
    )
    settings.CHANNEL_LAYERS = layer
    client = await open_feed()
    assert (await client.receive_json_from())["type"] == "subscribed"

    throwaway_redis.send_signal(signal.SIGSTOP)  # Redis stops answering: group_discard hangs
    started = time.monotonic()
    await client.disconnect(timeout=5)  # re-raises anything the consumer raised

    assert time.monotonic() - started < 3


def test_the_channel_layer_outwaits_its_own_blocking_read(settings):
    # Equal timeouts dropped every idle websocket after 5 s (issue 11, item 12).
    host = settings.CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]
    assert host["socket_timeout"] > RedisChannelLayer.brpop_timeout
    assert RedisChannelLayer.brpop_timeout == settings.CHANNEL_LAYER_BLOCKING_READ_SECONDS


async def test_a_cancelled_receive_ends_even_when_redis_py_loses_the_cancellation(settings):
    layer = RedisChannelLayer(**settings.CHANNEL_LAYERS["default"]["CONFIG"])
    outcomes = []
    # Cancelled at each early step of the receive; some steps used to loop forever.
    for steps in range(16):
        channel = await layer.new_channel()
        task = asyncio.ensure_future(layer.receive(channel))
        for _ in range(steps):
            await asyncio.sleep(0)
        task.cancel()
        done, _ = await asyncio.wait([task], timeout=RedisChannelLayer.brpop_timeout + 2)
        outcomes.append(bool(done) and task.cancelled())
    assert all(outcomes)
