"""Periodic digests: a summary mailed to a group of people, one per person per period.

notifications knows no digest itself: the app that owns the content registers a Digest
(in its `<app>/notification_events.py`) naming its event, who receives it and what it
says for a period (None: nothing to say, nobody is mailed). services.digests_send()
sends every registered digest.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.db.models import QuerySet


@dataclass(frozen=True)
class Digest:
    # A registered notification event (notifications.events).
    event: str
    recipients: Callable[[], QuerySet]
    # Called as content(period=<date>): the template context, or None to send nothing.
    content: Callable[..., dict | None]


_DIGESTS: list[Digest] = []


def register_digest(digest: Digest) -> Digest:
    """Send `digest` with every digests_send() run; one digest per event."""
    if any(known.event == digest.event for known in _DIGESTS):
        raise ValueError(f"A digest for {digest.event!r} is already registered.")
    _DIGESTS.append(digest)
    return digest


def digests() -> tuple[Digest, ...]:
    return tuple(_DIGESTS)
