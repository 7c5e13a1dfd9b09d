"""Rate limits of the places API. Rates come from REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES (THROTTLE_SUBMISSIONS, THROTTLE_READS in the environment)."""

import logging

from redis.exceptions import RedisError
from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle

logger = logging.getLogger(__name__)


class _SettingsRateThrottle(UserRateThrottle):
    """Per user when signed in, per client IP otherwise.

    DRF binds THROTTLE_RATES when the class is defined; reading the live setting instead
    keeps the rate a pure function of settings (and lets tests override it)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]

    def allow_request(self, request, view):
        # The counters live in Redis. If Redis is down, let the request through: losing
        # rate limiting for a while is better than failing every read with a 500 (the
        # map keeps working from Postgres).
        try:
            return super().allow_request(request, view)
        except RedisError:
            logger.warning("Throttle store unavailable; %s not rate limited", self.scope)
            return True


class SubmissionRateThrottle(_SettingsRateThrottle):
    """POST /locations per user."""

    scope = "submissions"


class ReadRateThrottle(_SettingsRateThrottle):
    """Place reads per client."""

    scope = "reads"
