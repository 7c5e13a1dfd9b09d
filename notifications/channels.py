"""Delivery channels. A channel turns a Notification row into a message on one medium.

To add push or SMS: subclass Channel, give it a unique `name`, implement `can_reach`
(does this user have an address on this medium?) and `send` (deliver, or raise so the
task retries), and add an instance to CHANNELS. notify() then creates one Notification
per reachable channel, each with its own idempotency key.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import TYPE_CHECKING, ClassVar

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template import engines
from django.utils import translation

from notifications.events import event as registered_event
from notifications.events import template_context

if TYPE_CHECKING:
    from notifications.models import Notification


class Channel(ABC):
    name: ClassVar[str]

    @abstractmethod
    def can_reach(self, recipient) -> bool:
        """Whether `recipient` has an address on this channel."""

    @abstractmethod
    def send(self, *, notification: Notification) -> None:
        """Deliver `notification` or raise (the delivery task retries on errors)."""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    text: str
    html: str


class EmailChannel(Channel):
    """Email through Django's email API: SMTP, any django-anymail provider, files or
    locmem, as EMAIL_BACKEND says. anymail reads `tags` and `metadata`; other backends
    ignore them."""

    name = "email"

    def can_reach(self, recipient) -> bool:
        return bool(recipient.email) and recipient.is_active

    def render(self, *, notification: Notification) -> RenderedEmail:
        """The mail in the recipient's language (User.language; English when it is not
        one of LANGUAGES): templates, subject and the derived context values alike."""
        event = registered_event(notification.event)
        language = mail_language(notification.recipient)
        with translation.override(language):
            context = template_context(
                event=event, payload=notification.payload, recipient=notification.recipient
            )
            context["language"] = language
            jinja = engines["jinja2"]
            subject = jinja.get_template(f"{event.template_dir}/subject.txt").render(context)
            return RenderedEmail(
                # One line: a newline in a subject is a header injection (Django refuses it).
                subject=re.sub(r"\s+", " ", subject).strip(),
                text=jinja.get_template(f"{event.template_dir}/body.txt").render(context),
                html=jinja.get_template(f"{event.template_dir}/body.html").render(context),
            )

    def send(self, *, notification: Notification) -> None:
        rendered = self.render(notification=notification)
        message = EmailMultiAlternatives(
            subject=rendered.subject,
            body=rendered.text,
            from_email=settings.DEFAULT_FROM_EMAIL,
            to=[mail_address(notification)],
            headers={"X-Placemap-Notification": notification.idempotency_key},
        )
        message.attach_alternative(rendered.html, "text/html")
        message.tags = [notification.event]
        message.metadata = {"notification_id": str(notification.pk)}
        message.send(fail_silently=False)


def mail_address(notification: Notification) -> str:
    """Where the mail goes: the recipient's address, unless the event names another
    one in its payload (Event.address_key)."""
    key = registered_event(notification.event).address_key
    if key is not None:
        return notification.payload[key]
    return notification.recipient.email


def mail_language(recipient) -> str:
    """The language `recipient` reads their mails in: their preference if the site
    speaks it, else LANGUAGE_CODE."""
    preferred = getattr(recipient, "language", "") or ""
    if preferred in {code for code, _ in settings.LANGUAGES}:
        return preferred
    return settings.LANGUAGE_CODE


CHANNELS: dict[str, Channel] = {channel.name: channel for channel in (EmailChannel(),)}


def channels_reaching(recipient) -> list[Channel]:
    return [channel for channel in CHANNELS.values() if channel.can_reach(recipient)]
