"""What accounts tells the apps above it (it cannot import them: pyproject's layers).

notifications mails the password reset and email verification links and the notice of
an address change: notifications/notification_events.py registers PASSWORD_RESET_EVENT,
EMAIL_VERIFICATION_EVENT and EMAIL_CHANGED_EVENT and connects to the signals below.
"""

from django.dispatch import Signal

PASSWORD_RESET_EVENT = "accounts.password_reset"  # noqa: S105 (an event name)
EMAIL_VERIFICATION_EVENT = "accounts.email_verification"
EMAIL_CHANGED_EVENT = "accounts.email_changed"

# Sent with `user` inside the transaction of the request, once per account matching the
# address (none for an unknown one). A receiver that raises fails the request: the
# mail is part of it.
password_reset_requested = Signal()

# Sent with `user` inside the transaction that registered the account, changed its
# address or asked for a new link; the mail goes to the account's address at sending.
email_verification_requested = Signal()

# Sent with `user` and `old_email` inside the transaction that replaced the account's
# address by another mailbox: the notice goes to the OLD address, so its owner learns
# of a change they did not make (the verification link goes to the new one).
email_changed = Signal()
