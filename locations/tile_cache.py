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
"""

from contextlib import suppress

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from redis.exceptions import RedisError

from config.breakers import RedisCircuitOpen

GENERATION_KEY = "tiles:generation"
_UNAVAILABLE = (RedisError, RedisCircuitOpen, OSError)


def _generation() -> int:
    return int(cache.get(GENERATION_KEY) or 0)


def _key(generation: int, *, z: int, x: int, y: int, category: list[str], coding: str) -> str:
    return f"tiles:etag:{generation}:{z}/{x}/{y}:{','.join(sorted(category))}:{coding}"


def etag_remembered(
    *, z: int, x: int, y: int, category: list[str], coding: str
) -> tuple[str, bool] | None:
    """The ETag this tile was last answered with (for this content coding) under the
    current generation, and whether that answer varied by Accept-Encoding; or None."""
    try:
        generation = _generation()
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
) -> None:
    """Remember a tile's ETag under the generation read BEFORE the tile was built: a
    change committed meanwhile has bumped it, so this memo is never read."""
    with suppress(*_UNAVAILABLE):
        cache.set(
            _key(generation, z=z, x=x, y=y, category=category, coding=coding),
            (etag, varies),
            timeout=settings.TILE_MAX_AGE,
        )


def _tile_key(generation: int, *, z: int, x: int, y: int, category: list[str]) -> str:
    return f"tiles:mvt:{generation}:{z}/{x}/{y}:{','.join(sorted(category))}"


def tile_remembered(
    *, generation: int, z: int, x: int, y: int, category: list[str]
) -> bytes | None:
    """The bytes of a first-zooms tile built under `generation` (b"" for an empty one),
    or None: not remembered, too deep a zoom, or Redis away."""
    if z > settings.TILE_MEMO_MAX_ZOOM:
        return None
    try:
        return cache.get(_tile_key(generation, z=z, x=x, y=y, category=category))
    except _UNAVAILABLE:
        return None


def tile_remember(
    *, generation: int, z: int, x: int, y: int, category: list[str], content: bytes
) -> None:
    """Remember a first-zooms tile's bytes under the generation read BEFORE it was built."""
    if z > settings.TILE_MEMO_MAX_ZOOM:
        return
    with suppress(*_UNAVAILABLE):
        cache.set(
            _tile_key(generation, z=z, x=x, y=y, category=category),
            bytes(content),
            timeout=settings.TILE_MAX_AGE,
        )


def generation_read() -> int | None:
    try:
        return _generation()
    except _UNAVAILABLE:
        return None


def map_changed() -> None:
    """Retire every remembered tile ETag (call after the change has committed)."""
    with suppress(*_UNAVAILABLE):
        if not cache.add(GENERATION_KEY, 1, timeout=None):
            cache.incr(GENERATION_KEY)


def map_changed_on_commit() -> None:
    transaction.on_commit(map_changed, robust=True)
