"""The one behaviour of every rate limit when its store is away.

Throttle counters live in Redis. When Redis cannot be reached (or its circuit breaker
is open, config/breakers.py), a throttle lets the request through and logs it: losing
rate limiting for a while beats failing logins, uploads and exports with 500s.
Every throttle class of the API mixes this in (tests/config/test_faults_redis.py checks).
"""

import logging

from redis.exceptions import RedisError
from rest_framework.throttling import ScopedRateThrottle

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


class FailOpenScopedRateThrottle(FailOpenThrottle, ScopedRateThrottle):
    """DRF's ScopedRateThrottle (the view's `throttle_scope`), failing open."""
