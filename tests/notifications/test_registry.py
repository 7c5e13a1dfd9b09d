"""notifications is generic: apps register their events (with template context) and
digests (notifications.events, notifications.digests); it imports none of them."""

import ast
from datetime import date
from pathlib import Path

import pytest
from django.contrib.auth import get_user_model
from django.core import mail

from notifications import digests as digest_registry
from notifications import events as event_registry
from notifications.digests import Digest, register_digest
from notifications.events import Event, event, register_event, template_context
from notifications.models import Notification
from notifications.services import digests_send, notify
from notifications.tasks import deliver_notification
from tests.accounts.factories import UserFactory

NOTIFICATIONS = Path(__file__).resolve().parents[2] / "notifications"


@pytest.fixture
def registries():
    """Whatever a test registers is forgotten afterwards."""
    events, digests = dict(event_registry.EVENTS), list(digest_registry._DIGESTS)
    yield
    event_registry.EVENTS.clear()
    event_registry.EVENTS.update(events)
    digest_registry._DIGESTS[:] = digests


def test_the_apps_register_their_events_at_startup():
    assert {
        "location.submitted",
        "location.approved",
        "location.rejected",
        "moderation.digest",
    } <= set(event_registry.EVENTS)
    assert [digest.event for digest in digest_registry.digests()] == ["moderation.digest"]


def test_it_refuses_a_second_registration_of_an_event(registries):
    with pytest.raises(ValueError, match="already registered"):
        register_event(Event("location.approved", "notifications/x", frozenset()))


def test_it_names_the_known_events_for_an_unknown_one():
    with pytest.raises(ValueError, match=r"Unknown notification event 'nope'.*location\.approved"):
        event("nope")


@pytest.mark.django_db
def test_an_app_registers_an_event_and_its_template_context(registries, settings):
    settings.SITE_URL = "https://maps.example"
    pinged = register_event(
        Event(
            "test.pinged",
            # Any existing templates will do: the test is about the context they get.
            "notifications/location_approved",
            frozenset({"location_id", "location_name"}),
            context=lambda payload: {"place_url": f"https://x.example/{payload['location_id']}"},
        )
    )
    recipient = UserFactory(first_name="Ada", last_name="Lovelace")

    context = template_context(
        event=pinged, payload={"location_id": "p1", "location_name": "Pier"}, recipient=recipient
    )
    assert context["place_url"] == "https://x.example/p1"
    assert context["site_url"] == "https://maps.example"
    assert context["recipient_name"] == "Ada Lovelace"

    with pytest.raises(ValueError, match=r"lacks \['location_name'\]"):
        notify(
            recipient=recipient, event="test.pinged", context={"location_id": "p1"}, dedupe_key="1"
        )
    [notification] = notify(
        recipient=recipient,
        event="test.pinged",
        context={"location_id": "p1", "location_name": "Pier"},
        dedupe_key="1",
    )
    deliver_notification(notification.pk)
    assert "https://x.example/p1" in mail.outbox[0].body


@pytest.mark.django_db
def test_a_registered_digest_goes_once_per_recipient_and_period(registries):
    register_event(Event("test.digest", "notifications/moderation_digest", frozenset()))
    readers = [UserFactory(), UserFactory()]
    contents: list[date] = []

    def content(*, period):
        contents.append(period)
        return {"period": period.isoformat(), "pending_count": 1, "places": []}

    register_digest(
        Digest(
            event="test.digest",
            recipients=lambda: get_user_model().objects.filter(pk__in=[r.pk for r in readers]),
            content=content,
        )
    )

    assert digests_send(period=date(2026, 11, 26)) == 2
    assert digests_send(period=date(2026, 11, 26)) == 0
    assert Notification.objects.filter(event="test.digest").count() == 2
    assert contents == [date(2026, 11, 26), date(2026, 11, 26)]


@pytest.mark.django_db
def test_a_digest_with_nothing_to_say_is_sent_to_nobody(registries):
    register_event(Event("test.quiet", "notifications/moderation_digest", frozenset()))
    UserFactory()
    register_digest(
        Digest(
            event="test.quiet",
            recipients=lambda: get_user_model().objects.all(),
            content=lambda *, period: None,
        )
    )

    digests_send(period=date(2026, 11, 26))

    assert not Notification.objects.filter(event="test.quiet").exists()


def test_notifications_imports_no_places_or_moderation_module():
    offending = []
    for path in sorted(NOTIFICATIONS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names = [node.module]
            else:
                continue
            offending += [
                f"{path.name}: {name}"
                for name in names
                if name.split(".")[0] in {"locations", "moderation", "media_store"}
            ]
    assert offending == []
