"""Rate limits of the places API. Rates come from REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES (THROTTLE_SUBMISSIONS, THROTTLE_READS in the environment).

Fixed windows counted with one Redis INCR per request (one round trip). DRF's own throttles keep the list
of every request time in the window and rewrite it on each request: at 600 reads a
minute that is a 600-entry list pickled twice per map pan. A fixed window may let up to
twice the rate through across a window edge; for abuse control that is fine.
"""

import time

from django.core.cache import cache
from rest_framework.settings import api_settings
from rest_framework.throttling import SimpleRateThrottle

from config.breakers import guard_redis
from config.throttling import FailOpenThrottle


class _FixedWindowThrottle(SimpleRateThrottle):
    """Per user when signed in, per client IP otherwise."""

    def get_rate(self):
        # Read the live setting (DRF binds it when the class is defined), so the rate is
        # a pure function of settings and tests can override it.
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def get_cache_key(self, request, view):
        user = getattr(request, "user", None)
        ident = f"user-{user.pk}" if user and user.is_authenticated else self.get_ident(request)
        return f"places:throttle:{self.scope}:{ident}"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        now = time.time()
        window = int(now // self.duration)
        key = f"{self.get_cache_key(request, view)}:{window}"
        # A RedisError fails open (FailOpenThrottle): the map keeps working from Postgres.
        count = guard_redis(lambda: self._count(key))
        if count <= self.num_requests:
            return True
        self._wait = (window + 1) * self.duration - now
        return False

    def _count(self, key: str) -> int:
        # One round trip: INCR creates the counter at 1, EXPIRE lets it die once its
        # window is over. (Django's cache.incr costs two round trips and refuses a missing
        # key, so this talks to the cache's own Redis client, as tests/conftest.py does.)
        full_key = cache.make_and_validate_key(key)
        pipe = cache._cache.get_client(full_key, write=True).pipeline(transaction=False)
        pipe.incr(full_key)
        pipe.expire(full_key, self.duration + 1)
        count, _ = pipe.execute()
        return int(count)

    def wait(self):
        return getattr(self, "_wait", None)


class SubmissionRateThrottle(FailOpenThrottle, _FixedWindowThrottle):
    """POST /locations per user."""

    scope = "submissions"


class ReadRateThrottle(FailOpenThrottle, _FixedWindowThrottle):
    """Place reads per client."""

    scope = "reads"
