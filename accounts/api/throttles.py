from config.throttling import FixedWindowRateThrottle


class AuthRateThrottle(FixedWindowRateThrottle):
    """Per client IP, anonymous requests only: slows password guessing and mass
    registration."""

    scope = "auth"
    ident = "ip"
    anonymous_only = True

    def get_rate(self):
        # DRF's own lookup (SimpleRateThrottle.THROTTLE_RATES, bound from the settings
        # when DRF loads) rather than the family's live one: it is where
        # tests/config/test_problems.py sets a low auth rate.
        return self.THROTTLE_RATES[self.scope]


class GdprRateThrottle(FixedWindowRateThrottle):
    """Per user: an export reads every photo; an erasure checks a password."""

    scope = "gdpr"
