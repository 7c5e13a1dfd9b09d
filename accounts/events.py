"""What accounts tells the apps above it (it cannot import them: pyproject's layers).

notifications mails the password reset and email verification links:
notifications/notification_events.py registers PASSWORD_RESET_EVENT and
EMAIL_VERIFICATION_EVENT and connects to password_reset_requested and
email_verification_requested.
"""

from django.dispatch import Signal

PASSWORD_RESET_EVENT = "accounts.password_reset"  # noqa: S105 (an event name)
EMAIL_VERIFICATION_EVENT = "accounts.email_verification"

# Sent with `user` inside the transaction of the request, once per account matching the
# address (none for an unknown one). A receiver that raises fails the request: the
# mail is part of it.
password_reset_requested = Signal()

# Sent with `user` inside the transaction that registered the account, changed its
# address or asked for a new link; the mail goes to the account's address at sending.
email_verification_requested = Signal()
