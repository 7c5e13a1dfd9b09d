"""The emails a submitter receives from the real callers of notify(): the places
service on submission and the moderation service on each decision."""

from django.core import mail

from locations.services import location_create
from moderation.services import location_approve, location_reject
from notifications.models import Notification, NotificationStatus
from notifications.tasks import deliver_notification


def deliver_pending() -> list:
    sent_before = len(mail.outbox)
    for pk in Notification.objects.filter(status=NotificationStatus.PENDING).values_list(
        "pk", flat=True
    ):
        deliver_notification(pk)
    return mail.outbox[sent_before:]


def test_a_place_mails_its_submitter_on_submission_approval_and_take_down(
    submitter, moderator, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        place = location_create(
            submitter=submitter,
            name="Harbour steps",
            category="viewpoint",
            latitude=52.52,
            longitude=13.40,
        )
    (received,) = deliver_pending()
    assert received.subject == 'We received your place "Harbour steps"'

    with django_capture_on_commit_callbacks(execute=True):
        location_approve(location_id=place.id, moderator=moderator)
    (approved,) = deliver_pending()
    assert approved.subject == 'Your place "Harbour steps" is now on the map'
    assert f"/api/v1/locations/{place.id}" in approved.body

    with django_capture_on_commit_callbacks(execute=True):
        location_reject(
            location_id=place.id,
            moderator=moderator,
            reason_code="privacy",
            reason="The photo shows a neighbour's window.",
        )
    (taken_down,) = deliver_pending()
    assert taken_down.subject == 'Your place "Harbour steps" was taken down'
    assert "Reason: Privacy concern" in taken_down.body
    assert "The photo shows a neighbour's window." in taken_down.body
    assert moderator.username not in taken_down.body

    # Every decision mailed once, whatever else re-runs.
    assert deliver_pending() == []
    assert Notification.objects.filter(recipient=submitter).count() == 3
