"""Circuit breakers for the database and Redis paths of a request.

When PostgreSQL or Redis is down, every call to it costs a full timeout (the pool's
DB_POOL_TIMEOUT, REDIS_TIMEOUT) before it fails. After BREAKER_FAIL_MAX such failures in
a row the breaker opens and, for BREAKER_RESET_TIMEOUT seconds, calls fail at once:

- the database path raises DatabaseCircuitOpen, an OperationalError, so the problem
  handler answers 503 with Retry-After and the places reads serve their stale copy;
- the Redis paths raise RedisCircuitOpen, a redis ConnectionError, so every caller that
  already fails open on Redis errors (throttles, fallback copies, the live feed) skips
  at once (Idempotency-Keys live in PostgreSQL, not Redis). There is one Redis breaker
  per distinct Redis (config.redis.instances()): roles sharing a Redis learn its outage
  together, and a throttles' Redis of its own that is down leaves the cache alone.

Then one trial call goes through; success closes the breaker.

These breakers are per process, unlike the storage breaker (media_store/storage.py):
their state could only be shared through PostgreSQL or Redis, which are the very things
that are down, and each process learns of an outage after BREAKER_FAIL_MAX timeouts of
its own, a few seconds.
"""

import logging
from collections.abc import Callable
from functools import lru_cache
from typing import Any, TypeVar

import pybreaker
from django.conf import settings
from django.db import OperationalError
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from config import redis as redis_roles

logger = logging.getLogger(__name__)

T = TypeVar("T")


class ConcurrentCircuitBreaker(pybreaker.CircuitBreaker):
    """pybreaker holds one lock around the whole guarded call, which would let only one
    guarded call per process run at a time. State changes still take the lock; the cost
    is that a half-open breaker may let a few concurrent trial calls through, not one."""

    def call(self, func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return self.state.call(func, *args, **kwargs)


class DatabaseCircuitOpen(OperationalError):
    """The database failed repeatedly; not trying again until the breaker half-opens."""


class RedisCircuitOpen(RedisConnectionError):
    """Redis failed repeatedly; not trying again until the breaker half-opens."""


class _LogTransitions(pybreaker.CircuitBreakerListener):
    def state_change(self, cb, old_state, new_state):
        if getattr(old_state, "name", None) == new_state.name:
            return
        logger.warning(
            "Circuit breaker %s: %s -> %s",
            cb.name,
            getattr(old_state, "name", old_state),
            new_state.name,
        )


def _not_a_redis_outage(exc: BaseException) -> bool:
    # A wrong command or a full memory is an answer: Redis is up.
    return not isinstance(exc, RedisConnectionError | RedisTimeoutError)


@lru_cache(maxsize=16)
def _breaker(name: str, fail_max: int, reset_timeout: int) -> ConcurrentCircuitBreaker:
    exclude = [_not_a_redis_outage] if name.startswith("redis") else []
    breaker = ConcurrentCircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_timeout,
        exclude=exclude,
        listeners=[_LogTransitions()],
        name=name,
    )
    _created.append(breaker)
    return breaker


# Every breaker made in this process (one per name and settings), so reset_all() also
# closes those made under other settings (tests change BREAKER_* per test).
_created: list[ConcurrentCircuitBreaker] = []


def database_breaker() -> ConcurrentCircuitBreaker:
    return _breaker("database", settings.BREAKER_FAIL_MAX, settings.BREAKER_RESET_TIMEOUT)


def redis_breaker(role: str = "cache") -> ConcurrentCircuitBreaker:
    """The breaker of the Redis serving `role` (config.redis.ROLES), named like its /ready
    check: "redis" while one Redis serves every role, else "redis:<role>+<role>"."""
    roles = redis_roles.instances()[redis_roles.role_urls()[role]]
    name = "redis" if len(roles) == len(redis_roles.ROLES) else "redis:" + "+".join(roles)
    return _breaker(name, settings.BREAKER_FAIL_MAX, settings.BREAKER_RESET_TIMEOUT)


def guard_database(fn: Callable[[], T]) -> T:
    """Run `fn` (opening a database connection) under the database breaker."""
    try:
        return database_breaker().call(fn)
    except pybreaker.CircuitBreakerError:
        raise DatabaseCircuitOpen(
            "The database is unavailable (circuit breaker open); not trying it for now."
        ) from None


def guard_redis(fn: Callable[[], T], *, role: str) -> T:
    """Run `fn` (a round trip to the Redis of `role`) under that Redis' breaker."""
    try:
        return redis_breaker(role).call(fn)
    except pybreaker.CircuitBreakerError:
        raise RedisCircuitOpen(
            "Redis is unavailable (circuit breaker open); not trying it for now."
        ) from None


def reset_all() -> None:
    """Close every breaker of this process (tests, and operators after a fix)."""
    for cb in (database_breaker(), *_created):
        cb.close()
