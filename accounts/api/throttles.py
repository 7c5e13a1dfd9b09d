from rest_framework.throttling import AnonRateThrottle, UserRateThrottle

from config.throttling import FailOpenThrottle


class AuthRateThrottle(FailOpenThrottle, AnonRateThrottle):
    """Per client IP: slows password guessing and mass registration."""

    scope = "auth"


class GdprRateThrottle(FailOpenThrottle, UserRateThrottle):
    """Per user: an export reads every photo; an erasure checks a password."""

    scope = "gdpr"
