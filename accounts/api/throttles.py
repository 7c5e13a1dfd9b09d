from rest_framework.throttling import AnonRateThrottle, UserRateThrottle


class AuthRateThrottle(AnonRateThrottle):
    """Per client IP: slows password guessing and mass registration."""

    scope = "auth"


class GdprRateThrottle(UserRateThrottle):
    """Per user: an export reads every photo; an erasure checks a password."""

    scope = "gdpr"
