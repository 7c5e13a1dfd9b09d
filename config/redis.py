"""The public way to reach the cache's Redis for what Django's cache API cannot do in
one round trip (INCR + EXPIRE in a pipeline, SCAN).

`redis_client()` talks to the Redis of CACHES["default"] with its timeouts; `key(*parts)`
names a key the way the cache does (KEY_PREFIX and version), so such keys sit next to
the cache's own and go with them (tests clear the prefix between tests).
Calls on the client are not behind the Redis circuit breaker: wrap round trips in
config.breakers.guard_redis where a dead Redis must cost nothing.
"""

from __future__ import annotations

from functools import lru_cache

import redis
from django.conf import settings
from django.core.cache import caches


@lru_cache(maxsize=8)
def _client(url: str, connect_timeout: float | None, timeout: float | None) -> redis.Redis:
    # One client (and connection pool) per process and URL: clients are thread-safe.
    return redis.Redis.from_url(url, socket_connect_timeout=connect_timeout, socket_timeout=timeout)


def redis_client() -> redis.Redis:
    """The Redis client of the default cache, read from the live settings."""
    config = settings.CACHES["default"]
    location = config["LOCATION"]
    url = location[0] if isinstance(location, list | tuple) else location
    options = config.get("OPTIONS", {})
    return _client(url, options.get("socket_connect_timeout"), options.get("socket_timeout"))


def key(*parts: object) -> str:
    """The full Redis key of `parts` joined by ":", as the cache would store it."""
    return caches["default"].make_and_validate_key(":".join(str(part) for part in parts))
