"""Django's Redis cache with every round trip behind the Redis circuit breaker
(config/breakers.py): while Redis is known to be down (stopped, or paused so that each
call waits REDIS_TIMEOUT), cache calls raise RedisCircuitOpen at once and the callers'
existing fail-open paths take over without paying a timeout each."""

import threading

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from config.breakers import guard_redis

# One connection pool per process and server. Django keeps the cache object (and with it
# its pools) per async context, and every ASGI request runs in a new one: each request
# opened a new Redis connection for its first cache call (a TCP connect, ~1-10 ms under
# load; docs/benchmarks.md "Lean read path"). redis-py's pools are thread-safe.
_POOLS: dict[tuple, object] = {}
_POOLS_LOCK = threading.Lock()

_ROUND_TRIPS = (
    "add",
    "get",
    "set",
    "touch",
    "delete",
    "get_many",
    "has_key",
    "incr",
    "set_many",
    "delete_many",
    "clear",
)


def _guarded(name: str):
    unguarded = getattr(RedisCacheClient, name)

    def call(self, *args, **kwargs):
        return guard_redis(lambda: unguarded(self, *args, **kwargs), role="cache")

    call.__name__ = name
    return call


class BreakerRedisCacheClient(RedisCacheClient):
    def _get_connection_pool(self, write):
        index = self._get_connection_pool_index(write)
        key = (self._servers[index], tuple(sorted(map(repr, self._pool_options.items()))))
        pool = _POOLS.get(key)
        if pool is None:
            with _POOLS_LOCK:
                pool = _POOLS.get(key)
                if pool is None:
                    pool = _POOLS[key] = self._pool_class.from_url(
                        self._servers[index], **self._pool_options
                    )
        return pool


for _name in _ROUND_TRIPS:
    setattr(BreakerRedisCacheClient, _name, _guarded(_name))


class BreakerRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = BreakerRedisCacheClient
