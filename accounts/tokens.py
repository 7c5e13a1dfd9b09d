"""The email verification link's token (docs/accounts.md "Email verification")."""

from django.conf import settings
from django.contrib.auth.tokens import PasswordResetTokenGenerator
from django.utils.crypto import constant_time_compare
from django.utils.http import base36_to_int


class EmailVerificationTokenGenerator(PasswordResetTokenGenerator):
    """Django's HMAC token over the account id, the address and the verified flag: it
    stops working once used (the flag turns on), when the address changes, and after
    EMAIL_VERIFICATION_TIMEOUT seconds. Nothing is stored. Its own salt, so a reset token
    is never a verification token or the reverse."""

    key_salt = "placemap.accounts.tokens.EmailVerificationTokenGenerator"

    def _make_hash_value(self, user, timestamp: int) -> str:
        return f"{user.pk}{user.email.casefold()}{int(user.email_verified)}{timestamp}"

    def check_token(self, user, token) -> bool:
        # Django's check, with this token's own timeout instead of PASSWORD_RESET_TIMEOUT.
        if not (user and token):
            return False
        try:
            ts_b36, _ = token.split("-")
            ts = base36_to_int(ts_b36)
        except ValueError:
            return False
        for secret in [self.secret, *self.secret_fallbacks]:
            if constant_time_compare(self._make_token_with_timestamp(user, ts, secret), token):
                break
        else:
            return False
        return self._num_seconds(self._now()) - ts <= settings.EMAIL_VERIFICATION_TIMEOUT


email_verification_token_generator = EmailVerificationTokenGenerator()
