"""Rate limits of the places API. Rates come from REST_FRAMEWORK's
DEFAULT_THROTTLE_RATES (THROTTLE_SUBMISSIONS, THROTTLE_READS in the environment)."""

from rest_framework.settings import api_settings
from rest_framework.throttling import UserRateThrottle


class _SettingsRateThrottle(UserRateThrottle):
    """Per user when signed in, per client IP otherwise.

    DRF binds THROTTLE_RATES when the class is defined; reading the live setting instead
    keeps the rate a pure function of settings (and lets tests override it)."""

    def get_rate(self):
        return api_settings.DEFAULT_THROTTLE_RATES[self.scope]


class SubmissionRateThrottle(_SettingsRateThrottle):
    """POST /locations per user."""

    scope = "submissions"


class ReadRateThrottle(_SettingsRateThrottle):
    """Place reads per client."""

    scope = "reads"
