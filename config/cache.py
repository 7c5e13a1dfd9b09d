"""Django's Redis cache with every round trip behind the Redis circuit breaker
(config/breakers.py): while Redis is known to be down (stopped, or paused so that each
call waits REDIS_TIMEOUT), cache calls raise RedisCircuitOpen at once and the callers'
existing fail-open paths take over without paying a timeout each."""

from django.core.cache.backends.redis import RedisCache, RedisCacheClient

from config.breakers import guard_redis

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
    pass


for _name in _ROUND_TRIPS:
    setattr(BreakerRedisCacheClient, _name, _guarded(_name))


class BreakerRedisCache(RedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = BreakerRedisCacheClient
