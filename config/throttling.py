"""The one throttle family of the API, and its behaviour when its store is away.

Counters live in Redis. When Redis cannot be reached (or its circuit breaker is open,
config/breakers.py), a throttle lets the request through and logs it: losing rate
limiting for a while beats failing logins, uploads and exports with 500s.
Every throttle class of the API mixes FailOpenThrottle in
(tests/config/test_faults_redis.py checks); FixedWindowRateThrottle already does. DRF's
own throttles count in the cache, not the throttles' Redis: use FixedWindowRateThrottle.

FixedWindowRateThrottle counts with one INCR per request (one pipelined round trip on
config.redis.throttle_client(): THROTTLE_REDIS_URL, which may be a Redis of its own). DRF's own throttles keep the list of every request time in
the window and rewrite it on each request: at 600 reads a minute that is a 600-entry
list pickled twice per request. A fixed window may let up to twice the rate through
across a window edge; for abuse control that is fine. Rates come from
REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"][scope], read live.
"""

import logging
import time
from typing import Literal

from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config import redis as placemap_redis
from config.breakers import guard_redis

logger = logging.getLogger(__name__)


class FailOpenThrottle:
    """Mix in before a DRF throttle class."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except RedisError:
            logger.warning(
                "Throttle store unavailable; %s not rate limited", getattr(self, "scope", None)
            )
            return True


class _FixedWindow(SimpleRateThrottle):
    # Who is counted: "user_or_ip" (the user when signed in, else the client IP), "ip"
    # (always the client IP) or "user" (signed-in users only; anonymous requests pass).
    ident: Literal["user_or_ip", "ip", "user"] = "user_or_ip"
    # AnonRateThrottle's rule: signed-in users are not limited by this throttle.
    anonymous_only = False
    # Counter keys: <key_prefix>:<scope>:<who>:<window number> under the cache's prefix,
    # in the throttles' Redis.
    key_prefix = "throttle"

    def get_rate(self):
        # The live setting (DRF binds it when the class is defined), so the rate is a
        # pure function of settings and tests can override it.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        signed_in = bool(user and user.is_authenticated)
        if signed_in and self.anonymous_only:
            return None
        if self.ident == "ip" or not signed_in:
            if self.ident == "user":
                return None
            who = self.get_ident(request)
        else:
            who = f"user-{user.pk}"
        return f"{self.key_prefix}:{self.scope}:{who}"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        name = self.get_cache_key(request, view)
        if name is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        key = placemap_redis.key(name, window)
        count = guard_redis(lambda: self._count(key, request), role="throttle")
        if count <= self.num_requests:
            return True
        self._wait = (window + 1) * self.duration - now
        return False

    def _count(self, key: str, request=None) -> int:
        # INCR creates the counter at 1, EXPIRE lets it die once its window is over.
        # (Django's cache.incr costs two round trips and refuses a missing key.) The
        # cache values the view asked for ride along (config.redis.read_with_throttles), and
        # so do the memo writes queued by earlier requests (write_with_throttles).
        pipe = placemap_redis.throttle_client().pipeline(transaction=False)
        pipe.incr(key)
        pipe.expire(key, self.duration + 1)
        reads = placemap_redis.pending_reads(request) if request is not None else []
        for name in reads:
            pipe.get(placemap_redis.key(name))
        # And the memo writes this process queued (config.redis.write_with_throttles).
        for full_key, raw, expires_at_ms in placemap_redis.take_deferred_writes():
            pipe.set(full_key, raw, pxat=expires_at_ms)
        count, _, *values = pipe.execute()
        if reads:
            placemap_redis.reads_done(request, reads, values[: len(reads)])
        return int(count)

    def wait(self):
        return getattr(self, "_wait", None)


class FixedWindowRateThrottle(FailOpenThrottle, _FixedWindow):
    """A fixed-window rate limit for `scope`, failing open; subclass and set `scope`
    (and `ident`, `anonymous_only`, `key_prefix` where the defaults do not fit)."""
