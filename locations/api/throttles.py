"""Rate limits of the places API, on the one throttle family (config.throttling): fixed
windows counted with one Redis INCR per request, per user when signed in and per client
IP otherwise, failing open while Redis is away (the map keeps working from Postgres).

Rates come from REST_FRAMEWORK's DEFAULT_THROTTLE_RATES (THROTTLE_SUBMISSIONS,
THROTTLE_READS in the environment); the export's from EXPORT_THROTTLE_RATE
(THROTTLE_EXPORT).
"""

from django.conf import settings
from rest_framework.settings import api_settings

from config.throttling import FixedWindowRateThrottle


class _PlacesThrottle(FixedWindowRateThrottle):
    # The counters' keys as they have always been: places:throttle:<scope>:<who>:<window>.
    key_prefix = "places:throttle"


class SubmissionRateThrottle(_PlacesThrottle):
    """POST /locations per user."""

    scope = "submissions"


class ReadRateThrottle(_PlacesThrottle):
    """Place reads per client."""

    scope = "reads"


class ExportRateThrottle(_PlacesThrottle):
    """GET /locations/export; each export may read every approved place, so it has its
    own, lower rate."""

    scope = "export"

    def get_rate(self):
        # EXPORT_THROTTLE_RATE while it exists; DEFAULT_THROTTLE_RATES["export"] once the
        # rate has moved there with the others.
        rate = getattr(settings, "EXPORT_THROTTLE_RATE", None)
        return rate if rate is not None else api_settings.DEFAULT_THROTTLE_RATES[self.scope]
