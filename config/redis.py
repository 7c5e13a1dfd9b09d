"""Redis by role, and the public way to reach it for what Django's cache API cannot do in
one round trip (INCR + EXPIRE in a pipeline, SCAN).

Each role may be its own Redis (docs/scaling.md, "Redis by role"); unset, each is
REDIS_URL. `role_urls()` names the URL of every role from the live settings:

- cache (CACHE_REDIS_URL, CACHES["default"]): fallback copies, the worker heartbeat, the
  storage breaker's state, the media sweep's cursor;
- channel_layer (CHANNEL_LAYER_REDIS_URL, CHANNEL_LAYERS["default"]): the live feed;
- throttle (THROTTLE_REDIS_URL): rate-limit counters, through `throttle_client()`;
- broker (CELERY_BROKER_URL): Celery's queues.

A hot read may also ride on the throttles' round trip: read a cache value in it
(`read_with_throttles`), or queue a memo write for the next one (`write_with_throttles`).

`redis_client()` talks to the cache's Redis with its timeouts; `key(*parts)` names a key
the way the cache does (KEY_PREFIX and version), so such keys share the cache's prefix
(tests clear the prefix between tests) whichever Redis holds them.
Calls on the clients are not behind the Redis circuit breaker: wrap round trips in
config.breakers.guard_redis where a dead Redis must cost nothing.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import caches

ROLES = ("cache", "channel_layer", "throttle", "broker")


@lru_cache(maxsize=8)
def _client(url: str, connect_timeout: float | None, timeout: float | None) -> redis.Redis:
    # One client (and connection pool) per process and URL: clients are thread-safe.
    return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=timeout)


def role_urls() -> dict[str, str]:
    """The Redis URL of each role (ROLES), from the live settings."""
    return {
        "cache": settings.CACHE_REDIS_URL,
        "channel_layer": settings.CHANNEL_LAYER_REDIS_URL,
        "throttle": settings.THROTTLE_REDIS_URL,
        "broker": settings.CELERY_BROKER_URL,
    }


def instances() -> dict[str, tuple[str, ...]]:
    """Each distinct Redis (its URL) and the roles it serves, in ROLES order."""
    found: dict[str, tuple[str, ...]] = {}
    for role, url in role_urls().items():
        found[url] = (*found.get(url, ()), role)
    return found


def redis_client() -> redis.Redis:
    """The Redis client of the default cache, read from the live settings."""
    config = settings.CACHES["default"]
    location = config["LOCATION"]
    url = location[0] if isinstance(location, list | tuple) else location
    options = config.get("OPTIONS", {})
    return _client(url, options.get("socket_connect_timeout"), options.get("socket_timeout"))


def throttle_client() -> redis.Redis:
    """The Redis client of the throttles' counters (THROTTLE_REDIS_URL)."""
    timeout = settings.REDIS_TIMEOUT
    return _client(settings.THROTTLE_REDIS_URL, timeout, timeout)


def key(*parts: object) -> str:
    """The full Redis key of `parts` joined by ":", as the cache would store it."""
    return caches["default"].make_and_validate_key(":".join(str(part) for part in parts))


# --- Reads riding on the throttles' round trip ---------------------------------------
# A hot read that needs a cache value (the tiles' map generation) reads it in the same
# pipeline as the throttles' INCR + EXPIRE, one round trip instead of two, when the
# throttles' Redis is the cache's. NOT_READ: asked for, not (yet) read.
NOT_READ = object()


def read_with_throttles(request, *names: str) -> None:
    """Ask for the cache keys `names` (as the cache names them) to be read in this
    request's throttle round trip; `prefetched()` gives the values."""
    if role_urls()["throttle"] == role_urls()["cache"]:
        request._redis_reads = dict.fromkeys(names, NOT_READ)


def pending_reads(request) -> list[str]:
    """The names asked for and not read yet (config.throttling reads them)."""
    reads = getattr(request, "_redis_reads", None) or {}
    return [name for name, value in reads.items() if value is NOT_READ]


def reads_done(request, names: list[str], values: list) -> None:
    request._redis_reads.update(zip(names, values, strict=True))


def prefetched(request, name: str):
    """The raw value (bytes, or None for a missing key) of a name read with the
    throttles, or NOT_READ."""
    reads = getattr(request, "_redis_reads", None) or {}
    return reads.get(name, NOT_READ)


# --- Writes riding on the next throttles' round trip ----------------------------------
# A memo write whose answer nobody waits for (a tile's ETag) is queued in the process and
# sent in the next throttle pipeline of any request of this process, instead of costing
# its request a round trip of its own. Its expiry is fixed when it is queued (SET ...
# PXAT), so the delay never lengthens its life. A process that stops serving requests
# loses what it queued, and so does a failed pipeline: only memos go this way.
DEFERRED_WRITES_MAX = 1000  # beyond it the oldest are dropped (a memo, not data)
_deferred_writes: deque[tuple[str, bytes, int]] = deque(maxlen=DEFERRED_WRITES_MAX)
_deferred_lock = threading.Lock()


def write_with_throttles(request, name: str, value: object, *, timeout: int) -> bool:
    """Queue `cache.set(name, value, timeout)` for the next throttle round trip of this
    process, if this request's own throttles read with the cache (so the next request's
    will too); False: not queued, the caller writes it itself."""
    reads = getattr(request, "_redis_reads", None)
    if not reads or NOT_READ in reads.values():
        return False
    cache = caches["default"]
    raw = cache._cache._serializer.dumps(value)  # type: ignore[attr-defined]
    expires_at_ms = int((time.time() + timeout) * 1000)
    with _deferred_lock:
        _deferred_writes.append((key(name), raw, expires_at_ms))
    return True


def take_deferred_writes() -> list[tuple[str, bytes, int]]:
    """The queued writes not yet expired, (full key, raw value, expiry in ms); the queue
    is emptied (config.throttling sends them)."""
    with _deferred_lock:
        writes = list(_deferred_writes)
        _deferred_writes.clear()
    now_ms = int(time.time() * 1000)
    return [write for write in writes if write[2] > now_ms]


def drop_deferred_writes() -> None:
    with _deferred_lock:
        _deferred_writes.clear()
