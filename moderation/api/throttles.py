"""Rate limits of the moderation API (the family of config.throttling)."""

from config.throttling import FixedWindowRateThrottle


class FlagRateThrottle(FixedWindowRateThrottle):
    """POST /locations/{id}/flags and /images/{id}/flags: THROTTLE_FLAGS per signed-in
    user (anonymous flags are refused before, with 401)."""

    scope = "flags"
    ident = "user"
