"""The account mails, registered here for accounts (autodiscovered like every app's).

accounts sits below notifications and cannot import it (pyproject's layers), so it
sends a signal (accounts.events) and this module turns it into a notification.
"""

import math
import uuid
from urllib.parse import urlencode

from django.conf import settings
from django.dispatch import receiver

from accounts.events import (
    EMAIL_CHANGED_EVENT,
    EMAIL_VERIFICATION_EVENT,
    PASSWORD_RESET_EVENT,
    email_changed,
    email_verification_requested,
    password_reset_requested,
)
from accounts.models import User
from accounts.services import email_verification_token, password_reset_token, password_reset_uid
from notifications.events import Event, register_event
from notifications.services import notify


def _link(base: str, **query: str) -> str:
    separator = "&" if "?" in base else "?"
    return f"{base}{separator}{urlencode(query)}"


def reset_link_context(payload: dict) -> dict:
    """The link, made when the mail is rendered: the token is never stored (a row or an
    export that names it would be a key to the account). It is valid for
    PASSWORD_RESET_TIMEOUT from the sending, and until the password changes."""
    user = User.objects.get(pk=payload["user_id"])
    return {
        "reset_url": _link(
            settings.PASSWORD_RESET_URL,
            uid=password_reset_uid(user),
            token=password_reset_token(user),
        ),
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


def verification_link_context(payload: dict) -> dict:
    """The link, made when the mail is rendered (never stored, as the reset link), for
    the address the mail goes to: the account's address at sending. It works once, for
    EMAIL_VERIFICATION_TIMEOUT from the sending, and only while that address stays."""
    user = User.objects.get(pk=payload["user_id"])
    return {
        "verify_url": _link(
            settings.EMAIL_VERIFICATION_URL,
            uid=password_reset_uid(user),
            token=email_verification_token(user),
        ),
        "email": user.email,
        "valid_hours": math.ceil(settings.EMAIL_VERIFICATION_TIMEOUT / 3600),
    }


register_event(
    Event(
        EMAIL_VERIFICATION_EVENT,
        "notifications/email_verification",
        frozenset({"user_id"}),
        context=verification_link_context,
    )
)


@receiver(email_verification_requested, dispatch_uid="notifications.email_verification")
def mail_email_verification(sender, *, user: User, **kwargs) -> None:
    # Each request mails (registration, a new address, a resend within its throttle).
    notify(
        recipient=user,
        event=EMAIL_VERIFICATION_EVENT,
        context={"user_id": user.pk},
        dedupe_key=uuid.uuid4().hex,
    )


def email_changed_context(payload: dict) -> dict:
    user = User.objects.get(pk=payload["user_id"])
    return {"new_email": user.email, "username": user.get_username()}


register_event(
    Event(
        EMAIL_CHANGED_EVENT,
        "notifications/email_changed",
        frozenset({"user_id", "old_email"}),
        context=email_changed_context,
        address_key="old_email",
    )
)


@receiver(email_changed, dispatch_uid="notifications.email_changed")
def mail_email_changed(sender, *, user: User, old_email: str, **kwargs) -> None:
    # To the old address, whatever ACCOUNT_EMAIL_VERIFICATION says: it is a security
    # notice. Each change mails once.
    notify(
        recipient=user,
        event=EMAIL_CHANGED_EVENT,
        context={"user_id": user.pk, "old_email": old_email},
        dedupe_key=uuid.uuid4().hex,
    )
