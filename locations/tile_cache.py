"""Revalidating a tile without PostgreSQL: the ETags of recent tiles, kept in the cache.

A map revalidates every visible tile on each pan or reload (If-None-Match). The tile's
ETag is a hash of its bytes (config.http_cache), so answering 304 honestly means knowing
the bytes. This module remembers, for TILE_MAX_AGE seconds, the ETag a tile was last
answered with, under the current *map generation*; an anonymous If-None-Match naming it
is answered 304 from the cache alone, without a database round trip.

The generation is one counter, bumped after the commit of every change to what the map
shows: every public change publishes on the live feed (locations.feed), and the bulk
import, which does not, bumps it itself. A bump retires every remembered ETag at once
(simple, and approvals are rare next to tile reads). Should a bump be lost (Redis down
at that moment), a remembered ETag still expires within TILE_MAX_AGE: no later than a
browser or CDN keeping the tile for its max-age would show the change anyway. Redis down
on read: no memo, the tile is built as usual.

The tiles of the first zooms (z <= TILE_MEMO_MAX_ZOOM) are remembered whole, bytes and
all, the same way: a world or continent tile sums thousands of summary cells, and every
map opens on one, so under the same generation it is built once per TILE_MAX_AGE.

Every zoom's tiles are also kept whole in each web process (`ProcessTileMemo`, bounded by
TILE_PROCESS_MEMO_BYTES, least recently used out first), keyed by the same generation
and for at most TILE_MAX_AGE: a repeated tile is then answered with no database round
trip and no Redis round trip beyond the generation read, whose answer decides. A
generation other than the one the memo holds empties it. A missing generation (a
flushed or evicted Redis) starts again at a random number, never at a count a process
may still hold tiles under.
"""

import secrets
import threading
import time
from collections import OrderedDict
from contextlib import suppress
from dataclasses import dataclass, field

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from config import redis as placemap_redis
from config.breakers import RedisCircuitOpen

GENERATION_KEY = "tiles:generation"
_UNAVAILABLE = (RedisError, RedisCircuitOpen, OSError)


# A fresh generation is drawn from 2**48 numbers: counts from an earlier life of the key
# (0, 1, 2 ... after each bump) are never met again.
_GENERATION_START_BITS = 48


def read_generation_with_throttles(request) -> None:
    """Have this request's throttle round trip read the generation too (config.redis)."""
    placemap_redis.read_with_throttles(request, GENERATION_KEY)


def _generation(request=None) -> int:
    if request is not None:
        raw = placemap_redis.prefetched(request, GENERATION_KEY)
        if raw is not placemap_redis.NOT_READ and raw is not None:
            return int(raw)  # the cache stores an int as its digits (INCR works on it)
    value = cache.get(GENERATION_KEY)
    if value is None:
        cache.add(GENERATION_KEY, secrets.randbits(_GENERATION_START_BITS), timeout=None)
        value = cache.get(GENERATION_KEY)
    return int(value or 0)


@dataclass
class _Entry:
    content: bytes
    born: float
    # content coding -> (ETag, varies by Accept-Encoding) already remembered in Redis
    etags: dict[str, tuple[str, bool]] = field(default_factory=dict)


# What an entry costs beyond its bytes (key string, entry object, dict slot): an estimate,
# so that a memo of empty tiles is bounded too.
ENTRY_OVERHEAD_BYTES = 400


class ProcessTileMemo:
    """Tiles of one map generation in this process, least recently used out first once
    their bytes (plus ENTRY_OVERHEAD_BYTES each) pass TILE_PROCESS_MEMO_BYTES.

    Thread-safe: the lean path and Django's serve requests from several threads."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: OrderedDict[str, _Entry] = OrderedDict()
        self._generation: int | None = None
        self.size = 0

    def __len__(self) -> int:
        return len(self._entries)

    def clear(self) -> None:
        with self._lock:
            self._drop_all(None)

    def _drop_all(self, generation: int | None) -> None:
        self._entries.clear()
        self.size = 0
        self._generation = generation

    def get(self, generation: int, key: str) -> _Entry | None:
        with self._lock:
            if generation != self._generation:
                self._drop_all(generation)
                return None
            entry = self._entries.get(key)
            if entry is None:
                return None
            if time.monotonic() - entry.born >= settings.TILE_MAX_AGE:
                self._remove(key)
                return None
            self._entries.move_to_end(key)
            return entry

    def put(self, generation: int, key: str, content: bytes) -> None:
        limit = settings.TILE_PROCESS_MEMO_BYTES
        cost = len(content) + ENTRY_OVERHEAD_BYTES
        if cost > limit:
            return
        with self._lock:
            if generation != self._generation:
                self._drop_all(generation)
            if key in self._entries:
                self._remove(key)
            self._entries[key] = _Entry(content=content, born=time.monotonic())
            self.size += cost
            while self.size > limit:
                self._remove(next(iter(self._entries)))

    def _remove(self, key: str) -> None:
        entry = self._entries.pop(key)
        self.size -= len(entry.content) + ENTRY_OVERHEAD_BYTES


process_memo = ProcessTileMemo()


def _memo_key(*, z: int, x: int, y: int, category: list[str]) -> str:
    """One tile with its category filter (in any order): the memo's key, and the tail of
    the cache keys."""
    return f"{z}/{x}/{y}:{','.join(sorted(category))}"


def _key(generation: int, *, z: int, x: int, y: int, category: list[str], coding: str) -> str:
    return f"tiles:etag:{generation}:{_memo_key(z=z, x=x, y=y, category=category)}:{coding}"


def etag_remembered(
    *, z: int, x: int, y: int, category: list[str], coding: str, request=None
) -> tuple[str, bool] | None:
    """The ETag this tile was last answered with (for this content coding) under the
    current generation, and whether that answer varied by Accept-Encoding; or None."""
    try:
        generation = _generation(request)
        entry = process_memo.get(generation, _memo_key(z=z, x=x, y=y, category=category))
        if entry is not None and coding in entry.etags:
            return entry.etags[coding]
        return cache.get(_key(generation, z=z, x=x, y=y, category=category, coding=coding))
    except _UNAVAILABLE:
        return None


def etag_remember(
    *,
    z: int,
    x: int,
    y: int,
    category: list[str],
    coding: str,
    etag: str,
    varies: bool,
    generation: int,
    request=None,
) -> None:
    """Remember a tile's ETag under the generation read BEFORE the tile was built: a
    change committed meanwhile has bumped it, so this memo is never read. With the
    `request` whose throttles read the generation, the write rides on this process' next
    throttle round trip (config.redis.write_with_throttles) instead of one of its own."""
    entry = process_memo.get(generation, _memo_key(z=z, x=x, y=y, category=category))
    if entry is not None and entry.etags.get(coding) == (etag, varies):
        # Remembered in Redis when this entry was first answered in this coding, for
        # TILE_MAX_AGE: no shorter than the entry itself lives.
        return
    name = _key(generation, z=z, x=x, y=y, category=category, coding=coding)
    deferred = request is not None and placemap_redis.write_with_throttles(
        request, name, (etag, varies), timeout=settings.TILE_MAX_AGE
    )
    if not deferred:
        try:
            cache.set(name, (etag, varies), timeout=settings.TILE_MAX_AGE)
        except _UNAVAILABLE:
            return
    if entry is not None:
        entry.etags[coding] = (etag, varies)


def _tile_key(generation: int, *, z: int, x: int, y: int, category: list[str]) -> str:
    return f"tiles:mvt:{generation}:{_memo_key(z=z, x=x, y=y, category=category)}"


def tile_remembered(
    *, generation: int, z: int, x: int, y: int, category: list[str]
) -> bytes | None:
    """The bytes of a tile built under `generation` (b"" for an empty one) from this
    process' memo, else (first zooms) from the cache; or None: not remembered, or Redis
    away."""
    key = _memo_key(z=z, x=x, y=y, category=category)
    entry = process_memo.get(generation, key)
    if entry is not None:
        return entry.content
    if z > settings.TILE_MEMO_MAX_ZOOM:
        return None
    try:
        content = cache.get(_tile_key(generation, z=z, x=x, y=y, category=category))
    except _UNAVAILABLE:
        return None
    if content is not None:
        process_memo.put(generation, key, content)
    return content


def tile_remember(
    *, generation: int, z: int, x: int, y: int, category: list[str], content: bytes
) -> None:
    """Remember a tile's bytes under the generation read BEFORE it was built: in this
    process, and (first zooms) in the cache."""
    process_memo.put(generation, _memo_key(z=z, x=x, y=y, category=category), bytes(content))
    if z > settings.TILE_MEMO_MAX_ZOOM:
        return
    with suppress(*_UNAVAILABLE):
        cache.set(
            _tile_key(generation, z=z, x=x, y=y, category=category),
            bytes(content),
            timeout=settings.TILE_MAX_AGE,
        )


def generation_read(request=None) -> int | None:
    """The map generation (read with this request's throttles if it asked), or None
    while Redis is away."""
    try:
        return _generation(request)
    except _UNAVAILABLE:
        return None


def map_changed() -> None:
    """Retire every remembered tile ETag (call after the change has committed)."""
    with suppress(*_UNAVAILABLE):
        start = secrets.randbits(_GENERATION_START_BITS)
        if not cache.add(GENERATION_KEY, start, timeout=None):
            cache.incr(GENERATION_KEY)


def map_changed_on_commit() -> None:
    transaction.on_commit(map_changed, robust=True)
