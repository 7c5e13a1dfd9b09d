"""The account mails, registered here for accounts (autodiscovered like every app's).

accounts sits below notifications and cannot import it (pyproject's layers), so it
sends a signal (accounts.events) and this module turns it into a notification.
"""

import math
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.dispatch import receiver

from accounts.events import PASSWORD_RESET_EVENT, password_reset_requested
from accounts.models import User
from accounts.services import password_reset_token, password_reset_uid
from notifications.events import Event, register_event
from notifications.services import notify


def reset_link_context(payload: dict) -> dict:
    """The link, made when the mail is rendered: the token is never stored (a row or an
    export that names it would be a key to the account). It is valid for
    PASSWORD_RESET_TIMEOUT from the sending, and until the password changes."""
    user = User.objects.get(pk=payload["user_id"])
    query = urlencode({"uid": password_reset_uid(user), "token": password_reset_token(user)})
    separator = "&" if "?" in settings.PASSWORD_RESET_URL else "?"
    return {
        "reset_url": f"{settings.PASSWORD_RESET_URL}{separator}{query}",
        "valid_minutes": math.ceil(settings.PASSWORD_RESET_TIMEOUT / 60),
    }


register_event(
    Event(
        PASSWORD_RESET_EVENT,
        "notifications/password_reset",
        frozenset({"user_id"}),
        context=reset_link_context,
    )
)


@receiver(password_reset_requested, dispatch_uid="notifications.password_reset")
def mail_password_reset(sender, *, user: User, **kwargs) -> None:
    # Every request mails (the throttle bounds them): a fresh key each time.
    notify(
        recipient=user,
        event=PASSWORD_RESET_EVENT,
        context={"user_id": user.pk},
        dedupe_key=uuid.uuid4().hex,
    )
