"""What people receive: every email's subject, plain text and HTML (locmem backend)."""

import pytest
from django.core import mail

from notifications.models import Notification, NotificationStatus
from notifications.services import notify
from notifications.tasks import deliver_notification
from tests.support import free_port as closed_port

PLACE_URL = "http://testserver.example/api/v1/locations/{}"


@pytest.fixture(autouse=True)
def _site_url(settings):
    settings.SITE_URL = "http://testserver.example"


def deliver(event: str, recipient, context: dict, dedupe_key: str = "k1"):
    (notification,) = notify(
        recipient=recipient, event=event, context=context, dedupe_key=dedupe_key
    )
    # The task function, run inline: what a worker does with the enqueued delivery.
    assert deliver_notification(notification.pk) is True
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    html = {mime: body for body, mime in message.alternatives}["text/html"]
    return notification, message, html


def moderation_context(place, **extra) -> dict:
    return {
        "location_id": str(place.id),
        "location_name": place.name,
        "status": "rejected",
        "previous_status": "pending",
        "take_down": False,
        "reason_code": "duplicate",
        "reason_label": "Duplicate of an existing place",
        "reason": "Already listed as 'Harbour Chippy'.\nPlease edit that one instead.",
        **extra,
    }


def test_the_submission_email_thanks_the_submitter_and_links_the_place(submitter, place):
    notification, message, html = deliver(
        "location.submitted",
        submitter,
        {"location_id": str(place.id), "location_name": place.name},
    )

    url = PLACE_URL.format(place.id)
    assert message.to == ["ada@example.org"]
    assert message.subject == 'We received your place "Fish & Chips <Harbour>"'
    assert "Hello Ada Lovelace," in message.body
    assert "A moderator will review it" in message.body
    assert url in message.body
    # Plain text is not HTML-escaped; HTML is.
    assert "&amp;" not in message.body
    assert "<strong>Fish &amp; Chips &lt;Harbour&gt;</strong>" in html
    assert f'href="{url}"' in html
    assert message.extra_headers["X-Placemap-Notification"] == notification.idempotency_key
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.sent_at is not None
    assert notification.attempts == 1


def test_the_approval_email_says_the_place_is_public_with_its_link(submitter, place):
    _, message, html = deliver(
        "location.approved",
        submitter,
        {"location_id": str(place.id), "location_name": place.name, "status": "approved"},
    )

    assert message.subject == 'Your place "Fish & Chips <Harbour>" is now on the map'
    assert "a moderator approved" in message.body
    assert PLACE_URL.format(place.id) in message.body
    assert "It is now public on the map" in html
    assert f'href="{PLACE_URL.format(place.id)}"' in html


def test_the_rejection_email_gives_the_reason_in_words_and_the_moderators_text(submitter, place):
    _, message, html = deliver("location.rejected", submitter, moderation_context(place))

    assert message.subject == 'Your place "Fish & Chips <Harbour>" was not approved'
    assert "did not approve it" in message.body
    assert "Reason: Duplicate of an existing place" in message.body
    assert "Already listed as 'Harbour Chippy'.\nPlease edit that one instead." in message.body
    assert "duplicate" not in message.body.replace("Duplicate", "")  # the code, in words only
    assert "<strong>Reason:</strong> Duplicate of an existing place" in html
    assert "Already listed as &#39;Harbour Chippy&#39;." in html
    assert PLACE_URL.format(place.id) in message.body


def test_a_take_down_email_says_the_place_was_taken_off_the_map(submitter, place):
    context = moderation_context(
        place,
        previous_status="approved",
        take_down=True,
        reason_code="privacy",
        reason_label="Privacy concern",
        reason="Shows a private garden.",
    )
    _, message, html = deliver("location.rejected", submitter, context)

    assert message.subject == 'Your place "Fish & Chips <Harbour>" was taken down'
    assert 'took "Fish & Chips <Harbour>" off the map' in message.body
    assert "Reason: Privacy concern" in message.body
    assert "Shows a private garden." in message.body
    assert "off the map" in html


def test_the_reason_label_comes_from_the_code_when_the_caller_gives_none(submitter, place):
    context = moderation_context(place, reason_code="spam")
    del context["reason_label"]

    _, message, _ = deliver("location.rejected", submitter, context)

    assert "Reason: Spam" in message.body


def test_a_moderators_text_cannot_inject_html(submitter, place):
    context = moderation_context(place, reason='<a href="https://evil.example">click</a>')

    _, _, html = deliver("location.rejected", submitter, context)

    assert "evil.example" in html
    assert '<a href="https://evil.example">' not in html
    assert "&lt;a href=" in html


def test_a_subject_never_spans_lines(submitter, place):
    _, message, _ = deliver(
        "location.submitted",
        submitter,
        {"location_id": str(place.id), "location_name": "Line one\r\nBcc: someone@evil.example"},
    )

    assert "\n" not in message.subject
    assert message.subject == 'We received your place "Line one Bcc: someone@evil.example"'
    assert message.to == ["ada@example.org"]
    assert message.bcc == []


def test_a_failing_mail_server_leaves_the_notification_pending_with_the_error(
    settings, submitter, place
):
    # A real SMTP connection to a port where nothing listens.
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    (notification,) = notify(
        recipient=submitter,
        event="location.approved",
        context={"location_id": str(place.id), "location_name": place.name},
        dedupe_key="k1",
    )

    with pytest.raises(OSError):
        deliver_notification(notification.pk)

    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING
    assert notification.attempts == 1
    assert "ConnectionRefusedError" in notification.last_error
    assert notification.sent_at is None


def test_a_delivery_that_fails_for_good_is_marked_failed_and_dead_lettered(
    settings, submitter, place
):
    from jobs.models import DeadLetter

    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", closed_port(), 2
    settings.JOBS_MAX_ATTEMPTS = 2
    (notification,) = notify(
        recipient=submitter,
        event="location.approved",
        context={"location_id": str(place.id), "location_name": place.name},
        dedupe_key="k1",
    )

    deliver_notification.apply(args=(notification.pk,))

    notification.refresh_from_db()
    assert notification.status == NotificationStatus.FAILED
    assert notification.attempts == 2
    letter = DeadLetter.objects.get()
    assert letter.task_name == "notifications.tasks.deliver_notification"
    assert letter.args == [notification.pk]

    # Mail is back: running the dead-lettered delivery again (what a requeue does) sends it.
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    deliver_notification.apply(args=letter.args)
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert len(mail.outbox) == 1


def test_nothing_is_recorded_for_a_recipient_without_an_email_address(submitter, place):
    submitter.email = ""
    submitter.save(update_fields=["email"])

    created = notify(
        recipient=submitter,
        event="location.submitted",
        context={"location_id": str(place.id), "location_name": place.name},
        dedupe_key="k1",
    )

    assert created == []
    assert not Notification.objects.exists()
