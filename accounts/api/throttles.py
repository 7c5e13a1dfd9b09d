from rest_framework.throttling import AnonRateThrottle


class AuthRateThrottle(AnonRateThrottle):
    """Per client IP: slows password guessing and mass registration."""

    scope = "auth"
