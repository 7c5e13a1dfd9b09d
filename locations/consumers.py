"""The live map feed: ws /ws/map/?bbox=minLon,minLat,maxLon,maxLat (docs/live-feed.md).

The consumer only validates the client's window, joins the `map` group and filters what
the group carries; services publish after commit (locations.feed). Anonymous clients
are welcome: every event carries public data only.
"""

import asyncio
import enum
import json
import logging
import time
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer
from django.conf import settings
from redis.exceptions import RedisError

from locations.feed import MAP_GROUP
from locations.geo import BBox, BBoxError, parse_bbox

logger = logging.getLogger(__name__)

# Application close codes (4000-4999 are ours by RFC 6455); they mirror HTTP statuses.
CLOSE_INVALID_BBOX = 4400
CLOSE_FLOODING = 4429
# RFC 6455 "try again later": the channel layer (Redis) is unavailable.
CLOSE_TRY_AGAIN_LATER = 1013


class Verdict(enum.Enum):
    OK = "ok"
    THROTTLED = "throttled"  # first excess message in this window: tell the client
    DROPPED = "dropped"  # further excess in the same window: drop silently
    FLOODING = "flooding"  # too much excess: close


class MessageRateLimiter:
    """Fixed one-second windows of at most `per_second` messages. Excess messages are
    dropped, with one error frame per window so a flood cannot make us flood back;
    `close_after` drops without a calm second in between mean the client is flooding."""

    def __init__(self, *, per_second: int, close_after: int, clock=time.monotonic):
        self.per_second = per_second
        self.close_after = close_after
        self.clock = clock
        self.window_started = clock()
        self.count = 0
        self.dropped = 0

    def hit(self) -> Verdict:
        now = self.clock()
        if now - self.window_started >= 1.0:
            if self.count <= self.per_second:
                self.dropped = 0  # a calm second forgives earlier excess
            self.window_started = now
            self.count = 0
        self.count += 1
        if self.count <= self.per_second:
            return Verdict.OK
        self.dropped += 1
        if self.dropped >= self.close_after:
            return Verdict.FLOODING
        return Verdict.THROTTLED if self.count == self.per_second + 1 else Verdict.DROPPED


class MapFeedConsumer(AsyncWebsocketConsumer):
    bbox: BBox | None = None
    joined = False

    async def connect(self) -> None:
        # Accept first: a refused handshake reaches the client as a bare HTTP 403,
        # while an error frame before the close tells it what was wrong.
        await self.accept()
        query = parse_qs(self.scope.get("query_string", b"").decode("latin-1"))
        raw = query.get("bbox", [None])[-1]
        if raw is None:
            await self._error("invalid_bbox", "Query parameter bbox is required.", field="bbox")
            await self.close(code=CLOSE_INVALID_BBOX)
            return
        try:
            self.bbox = parse_bbox(raw)
        except BBoxError as exc:
            await self._error("invalid_bbox", str(exc), field="bbox")
            await self.close(code=CLOSE_INVALID_BBOX)
            return
        self.limiter = MessageRateLimiter(
            per_second=settings.LIVE_FEED_MAX_MESSAGES_PER_SECOND,
            close_after=settings.LIVE_FEED_FLOOD_CLOSE_AFTER,
        )
        try:
            async with asyncio.timeout(settings.REDIS_TIMEOUT):
                await self.channel_layer.group_add(MAP_GROUP, self.channel_name)
        except (RedisError, OSError, TimeoutError):
            logger.warning("live feed: could not join the map group", exc_info=True)
            await self._error("unavailable", "The live feed is unavailable; try again later.")
            await self.close(code=CLOSE_TRY_AGAIN_LATER)
            return
        self.joined = True
        await self._send({"type": "subscribed", "bbox": self.bbox.as_list()})

    async def disconnect(self, code) -> None:
        if not self.joined:
            return
        self.joined = False
        try:
            # Bounded: the socket is gone, only the group entry is left, and channels_redis
            # expires that by itself (group_expiry) if Redis cannot be told now.
            async with asyncio.timeout(settings.REDIS_TIMEOUT):
                await self.channel_layer.group_discard(MAP_GROUP, self.channel_name)
        except (RedisError, OSError, TimeoutError):
            logger.warning("live feed: could not leave the map group", exc_info=True)

    async def receive(self, text_data=None, bytes_data=None) -> None:
        if not self.joined:
            return
        verdict = self.limiter.hit()
        if verdict is Verdict.FLOODING:
            logger.info("live feed: closing a flooding client")
            await self.disconnect(CLOSE_FLOODING)
            await self._error("flooding", "Too many messages; closing the connection.")
            await self.close(code=CLOSE_FLOODING)
            return
        if verdict is Verdict.THROTTLED:
            await self._error(
                "rate_limited",
                f"At most {self.limiter.per_second} messages per second; "
                "extra messages are ignored.",
                retry_after=1,
            )
        if verdict is not Verdict.OK:
            return
        if bytes_data is not None or text_data is None:
            await self._error("invalid_message", "Send JSON text frames.")
            return
        if len(text_data.encode()) > settings.LIVE_FEED_MAX_MESSAGE_BYTES:
            await self._error("invalid_message", "Message too large.")
            return
        try:
            message = json.loads(text_data)
        except ValueError:
            await self._error("invalid_message", "Message is not valid JSON.")
            return
        if not isinstance(message, dict) or message.get("type") != "subscribe":
            await self._error("invalid_message", 'Expected {"type": "subscribe", "bbox": [...]}.')
            return
        try:
            self.bbox = parse_bbox(message.get("bbox"))
        except BBoxError as exc:
            # The previous window stays in force: a typo must not blank the map.
            await self._error("invalid_bbox", str(exc), field="bbox")
            return
        await self._send({"type": "subscribed", "bbox": self.bbox.as_list()})

    async def map_event(self, event: dict) -> None:
        """A place changed somewhere: forward it if it is (or was) inside this window."""
        if self.bbox is None:
            return
        inside = self.bbox.contains(event["lon"], event["lat"])
        previous = event.get("previous")
        if not inside and previous:
            # A place that moved out of the window must still leave the client's map.
            inside = self.bbox.contains(previous[0], previous[1])
        if not inside:
            return
        await self._send(
            {
                "type": event["event"],
                "id": event["id"],
                "lon": event["lon"],
                "lat": event["lat"],
                "feature": event.get("feature"),
            }
        )

    async def _error(self, code: str, detail: str, **extra) -> None:
        await self._send({"type": "error", "code": code, "detail": detail, **extra})

    async def _send(self, payload: dict) -> None:
        await self.send(text_data=json.dumps(payload, separators=(",", ":")))
