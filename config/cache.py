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
# And one client per pool: Django builds a new redis.Redis for every cache call, whose
# constructor (its response-callback tables) cost about as much Python as the call
# itself (py-spy under load, docs/benchmarks.md "Lean path, per-request cost"). A client
# on a pool holds no connection of its own and is thread-safe too.
_POOLS: dict[tuple, tuple[object, object]] = {}  # key -> (pool, client)
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
    def _pool_and_client(self, write) -> tuple:
        index = self._get_connection_pool_index(write)
        key = (self._servers[index], tuple(sorted(map(repr, self._pool_options.items()))))
        found = _POOLS.get(key)
        if found is None:
            with _POOLS_LOCK:
                found = _POOLS.get(key)
                if found is None:
                    pool = self._pool_class.from_url(self._servers[index], **self._pool_options)
                    found = _POOLS[key] = (pool, self._client(connection_pool=pool))
        return found

    def _get_connection_pool(self, write):
        return self._pool_and_client(write)[0]

    def get_client(self, key=None, *, write=False):
        return self._pool_and_client(write)[1]


for _name in _ROUND_TRIPS:
    setattr(BreakerRedisCacheClient, _name, _guarded(_name))


class BreakerRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = BreakerRedisCacheClient
