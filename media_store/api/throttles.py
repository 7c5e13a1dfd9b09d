"""Rate limits of the photos API (the family of config.throttling)."""

from config.throttling import FixedWindowRateThrottle


class UploadRateThrottle(FixedWindowRateThrottle):
    """POST /images/upload: THROTTLE_UPLOADS per signed-in user."""

    scope = "uploads"
