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


class PasswordResetRateThrottle(FixedWindowRateThrottle):
    """Per client IP, signed in or not: each reset request may send a mail."""

    scope = "password_reset"
    ident = "ip"


class PasswordChangeRateThrottle(FixedWindowRateThrottle):
    """Per user, at the sign-in rate (THROTTLE_AUTH): a change checks the old password,
    so a stolen token must not guess it faster than a sign-in could."""

    scope = "auth"
    ident = "user"
    key_prefix = "throttle-password-change"


class VerifyResendRateThrottle(FixedWindowRateThrottle):
    """Per user (THROTTLE_VERIFY_RESEND): each resend mails the account's address."""

    scope = "verify_resend"
    ident = "user"
