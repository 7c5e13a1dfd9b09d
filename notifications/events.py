"""The events Placemap tells people about, and what their templates are given.

notifications knows no event itself: each app that raises one registers it in its
`<app>/notification_events.py` (NotificationsConfig.ready() imports them all), with its
templates, the payload keys it needs and, optionally, a function adding derived template
values (a link, a reason in words). Callers pass `context` to notify(); it is stored as
the notification's payload and becomes the template context. notify() checks the
required keys, so a caller that forgets one fails in its own tests instead of mailing a
broken email later.
"""

from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings


@dataclass(frozen=True)
class Event:
    name: str
    # Directory under templates/ holding subject.txt, body.txt and body.html.
    template_dir: str
    required_keys: frozenset[str]
    # Derived template values from the stored payload, added at render time (so a link
    # follows SITE_URL at delivery, and older payloads render too).
    context: Callable[[dict], dict] | None = None
    # The payload key holding the address to mail instead of the recipient's own (the
    # notice of an address change goes to the old address); None: the recipient's.
    address_key: str | None = None


class UnknownEvent(ValueError):
    pass


EVENTS: dict[str, Event] = {}


def register_event(new: Event) -> Event:
    """Make `new` known to notify() and the channels. A name is registered once: two
    apps cannot both own an event (notification rows store the name)."""
    if new.name in EVENTS:
        raise ValueError(f"Notification event {new.name!r} is already registered.")
    EVENTS[new.name] = new
    return new


def event(name: str) -> Event:
    """The registered event `name`; raises UnknownEvent naming the known ones."""
    try:
        return EVENTS[name]
    except KeyError:
        raise UnknownEvent(
            f"Unknown notification event {name!r}; known: {sorted(EVENTS)}."
        ) from None


def template_context(*, event: Event, payload: dict, recipient) -> dict:
    context = dict(payload)
    context["site_url"] = settings.SITE_URL
    context["recipient_name"] = recipient.get_full_name() or recipient.get_username()
    if event.context is not None:
        context.update(event.context(payload))
    return context
