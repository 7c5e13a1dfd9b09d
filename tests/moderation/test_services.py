"""The moderation state machine and what each decision leaves behind: the place's
status, one log row, the submitter's notification and the live-feed event."""

import pytest
from django.core.exceptions import PermissionDenied

from locations.models import Location
from moderation import services
from moderation.models import ModerationLog
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory

LEGAL = [
    ("pending", "approved"),
    ("pending", "rejected"),
    ("approved", "rejected"),
    ("rejected", "approved"),
]
ILLEGAL = [("approved", "approved"), ("rejected", "rejected")]
REASON = {"reason_code": "inaccurate", "reason": "The pin is in the lake."}


def make_place(status: str, submitter=None) -> Location:
    submitter = submitter or UserFactory()
    if status == "approved":
        return LocationFactory(approved=True, submitter=submitter)
    return LocationFactory(status=status, submitter=submitter)


def decide(location, to_status, moderator, **extra):
    reason = REASON if to_status == "rejected" else {}
    return services.location_transition(
        location_id=location.id, to_status=to_status, moderator=moderator, **{**reason, **extra}
    )


@pytest.mark.parametrize(("from_status", "to_status"), LEGAL)
def test_each_legal_transition_changes_the_status_and_writes_one_log_row(
    moderator, from_status, to_status
):
    location = make_place(from_status)

    log = decide(location, to_status, moderator)

    location.refresh_from_db()
    assert location.status == to_status
    assert (location.approved_at is not None) == (to_status == "approved")
    rows = list(ModerationLog.objects.filter(location_ref=location.id))
    assert rows == [log]
    assert (log.location_id, log.moderator, log.from_status, log.to_status) == (
        location.id,
        moderator,
        from_status,
        to_status,
    )
    if to_status == "rejected":
        assert (log.reason_code, log.reason) == ("inaccurate", "The pin is in the lake.")


@pytest.mark.parametrize(("from_status", "to_status"), ILLEGAL)
def test_an_illegal_transition_is_refused_and_writes_nothing(moderator, from_status, to_status):
    location = make_place(from_status)
    before = Location.objects.values("status", "approved_at", "updated_at").get(pk=location.pk)

    with pytest.raises(services.IllegalTransition):
        decide(location, to_status, moderator)

    assert (
        Location.objects.values("status", "approved_at", "updated_at").get(pk=location.pk) == before
    )
    assert not ModerationLog.objects.exists()
    assert not Notification.objects.exists()


@pytest.mark.parametrize("to_status", ["pending", "deleted", ""])
def test_a_decision_can_only_approve_or_reject(moderator, to_status):
    location = make_place("approved")
    with pytest.raises(services.InvalidDecision) as exc:
        decide(location, to_status, moderator)
    assert list(exc.value.errors) == ["status"]


@pytest.mark.parametrize("from_status", ["pending", "approved"])
@pytest.mark.parametrize(
    ("missing", "payload"),
    [
        ("reason_code", {"reason_code": "", "reason": "Looks like an advert."}),
        ("reason", {"reason_code": "spam", "reason": "   "}),
    ],
)
def test_rejecting_or_taking_down_without_a_reason_is_refused(
    moderator, from_status, missing, payload
):
    location = make_place(from_status)
    with pytest.raises(services.InvalidDecision) as exc:
        services.location_reject(location_id=location.id, moderator=moderator, **payload)
    assert list(exc.value.errors) == [missing]
    location.refresh_from_db()
    assert location.status == from_status
    assert not ModerationLog.objects.exists()


def test_an_unknown_reason_code_is_refused(moderator):
    location = make_place("pending")
    with pytest.raises(services.InvalidDecision) as exc:
        services.location_reject(
            location_id=location.id, moderator=moderator, reason_code="ugly", reason="Meh."
        )
    assert list(exc.value.errors) == ["reason_code"]


def test_a_user_who_is_not_a_moderator_cannot_decide(user):
    location = make_place("pending")
    with pytest.raises(PermissionDenied):
        services.location_approve(location_id=location.id, moderator=user)
    location.refresh_from_db()
    assert location.status == "pending"


def test_a_decision_on_a_status_the_moderator_did_not_see_is_refused(moderator):
    location = make_place("approved")
    with pytest.raises(services.IllegalTransition, match="someone else decided"):
        services.location_reject(
            location_id=location.id, moderator=moderator, expected_status="pending", **REASON
        )
    location.refresh_from_db()
    assert location.status == "approved"


def test_the_submitter_is_told_of_an_approval_without_the_moderators_name(moderator):
    submitter = UserFactory()
    location = make_place("pending", submitter)

    log = services.location_approve(location_id=location.id, moderator=moderator)

    notification = Notification.objects.get()
    assert notification.recipient == submitter
    assert notification.event == "location.approved"
    assert notification.payload["location_id"] == str(location.id)
    assert notification.payload["location_name"] == location.name
    assert notification.payload["status"] == "approved"
    assert moderator.username not in str(notification.payload)
    assert str(log.id) in notification.idempotency_key


def test_the_submitter_is_told_of_a_take_down_with_the_reason(moderator):
    submitter = UserFactory()
    location = make_place("approved", submitter)

    services.location_reject(location_id=location.id, moderator=moderator, **REASON)

    notification = Notification.objects.get()
    assert notification.recipient == submitter
    assert notification.event == "location.rejected"
    assert notification.payload["take_down"] is True
    assert notification.payload["reason_code"] == "inaccurate"
    assert notification.payload["reason_label"] == "Inaccurate or misplaced"
    assert notification.payload["reason"] == "The pin is in the lake."


def test_a_place_whose_submitter_was_erased_is_decided_without_a_notification(moderator):
    location = LocationFactory(submitter=None)
    services.location_approve(location_id=location.id, moderator=moderator)
    location.refresh_from_db()
    assert location.status == "approved"
    assert ModerationLog.objects.count() == 1
    assert not Notification.objects.exists()


def test_each_decision_on_a_place_notifies_once(moderator):
    location = make_place("pending")
    services.location_approve(location_id=location.id, moderator=moderator)
    services.location_reject(location_id=location.id, moderator=moderator, **REASON)
    services.location_approve(location_id=location.id, moderator=moderator)
    assert list(Notification.objects.order_by("id").values_list("event", flat=True)) == [
        "location.approved",
        "location.rejected",
        "location.approved",
    ]


def test_an_approval_publishes_the_public_feature_after_commit(
    moderator, map_feed, django_capture_on_commit_callbacks
):
    location = make_place("pending")

    with django_capture_on_commit_callbacks(execute=True):
        services.location_approve(location_id=location.id, moderator=moderator)

    message = map_feed.receive()
    assert message["event"] == "location.approved"
    assert message["id"] == str(location.id)
    assert message["feature"]["id"] == str(location.id)
    assert message["feature"]["properties"]["status"] == "approved"
    assert message["feature"]["geometry"]["coordinates"] == pytest.approx(
        [location.point.x, location.point.y]
    )


def test_a_take_down_removes_the_place_from_open_maps(
    moderator, map_feed, django_capture_on_commit_callbacks
):
    location = make_place("approved")

    with django_capture_on_commit_callbacks(execute=True):
        services.location_reject(location_id=location.id, moderator=moderator, **REASON)

    message = map_feed.receive()
    assert (message["event"], message["id"], message["feature"]) == (
        "location.removed",
        str(location.id),
        None,
    )


def test_rejecting_a_pending_place_tells_no_map(
    moderator, map_feed, django_capture_on_commit_callbacks
):
    location = make_place("pending")
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        services.location_reject(location_id=location.id, moderator=moderator, **REASON)
    assert map_feed.received_nothing()
    # Only the notification machinery may have scheduled work, never the feed.
    assert all("publish" not in repr(cb) for cb in callbacks)


def test_a_refused_decision_publishes_nothing(
    moderator, map_feed, django_capture_on_commit_callbacks
):
    location = make_place("approved")
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(services.IllegalTransition),
    ):
        services.location_approve(location_id=location.id, moderator=moderator)
    assert map_feed.received_nothing()


def test_an_unknown_place_raises_does_not_exist(moderator):
    with pytest.raises(Location.DoesNotExist):
        services.location_approve(
            location_id="00000000-0000-4000-8000-000000000000", moderator=moderator
        )


def test_a_decision_is_traced_with_its_place_and_statuses(moderator, monkeypatch):
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    # A private provider: the process-wide one belongs to the observability set-up.
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    # The module that makes the span (moderation.services is a package of such modules).
    monkeypatch.setattr(services.places, "tracer", provider.get_tracer("test"))
    location = make_place("pending")

    log = services.location_approve(location_id=location.id, moderator=moderator)

    (span,) = [s for s in exporter.get_finished_spans() if s.name.startswith("placemap.")]
    assert span.name == "placemap.moderation.transition"
    assert span.attributes["placemap.location.id"] == str(location.id)
    assert span.attributes["placemap.moderation.from_status"] == "pending"
    assert span.attributes["placemap.moderation.to_status"] == "approved"
    assert span.attributes["placemap.moderation.log_id"] == log.id
