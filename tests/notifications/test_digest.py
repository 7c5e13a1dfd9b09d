from datetime import date, timedelta

from django.core import mail
from django.utils import timezone

from notifications.models import Notification
from notifications.services import moderation_digest_send
from notifications.tasks import deliver_notification, send_moderation_digest
from tests.accounts.factories import ModeratorFactory, UserFactory
from tests.locations.factories import LocationFactory


def deliver_all() -> None:
    for pk in Notification.objects.filter(status="pending").values_list("pk", flat=True):
        deliver_notification(pk)


def test_moderators_who_opted_in_get_the_pending_places_oldest_first(settings, digest_moderator):
    settings.SITE_URL = "http://testserver.example"
    now = timezone.now()
    newer = LocationFactory(name="Newer pond")
    older = LocationFactory(name="Older bench")
    # created_at is auto_now_add: set the submission times explicitly.
    type(older).objects.filter(pk=older.pk).update(created_at=now - timedelta(days=2))
    type(newer).objects.filter(pk=newer.pk).update(created_at=now - timedelta(days=1))
    LocationFactory(name="Already public", approved=True)
    ModeratorFactory(username="no-digest")  # a moderator who did not opt in
    opted_in_user = UserFactory(username="not-a-moderator")
    opted_in_user.wants_moderation_digest = True
    opted_in_user.save(update_fields=["wants_moderation_digest"])

    assert moderation_digest_send(period=date(2026, 11, 26)) == 1
    deliver_all()

    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    html = message.alternatives[0][0]
    assert message.to == [digest_moderator.email]
    assert message.subject == "2 places waiting for review"
    assert "2 places are waiting for review on Placemap (2026-11-26)." in message.body
    assert message.body.index("Older bench") < message.body.index("Newer pond")
    assert "Already public" not in message.body
    assert f"http://testserver.example/api/v1/locations/{older.id}" in message.body
    assert f'href="http://testserver.example/api/v1/locations/{newer.id}"' in html
    assert "http://testserver.example/admin/" in message.body


def test_the_digest_says_how_many_more_wait_than_it_lists(settings, digest_moderator):
    settings.NOTIFICATIONS_DIGEST_MAX_PLACES = 2
    LocationFactory.create_batch(3)

    moderation_digest_send(period=date(2026, 11, 26))
    deliver_all()

    body = mail.outbox[0].body
    assert "3 places are waiting" in body
    assert "The 2 that have waited longest:" in body
    assert body.count("/api/v1/locations/") == 2


def test_a_second_digest_run_the_same_day_mails_nobody_twice(digest_moderator):
    LocationFactory()

    assert moderation_digest_send(period=date(2026, 11, 26)) == 1
    assert moderation_digest_send(period=date(2026, 11, 26)) == 0
    deliver_all()
    assert len(mail.outbox) == 1
    assert mail.outbox[0].subject == "1 place waiting for review"

    assert moderation_digest_send(period=date(2026, 11, 27)) == 1


def test_no_digest_is_sent_when_nothing_is_pending(digest_moderator):
    LocationFactory(approved=True)

    assert send_moderation_digest() == 0
    assert not Notification.objects.exists()


def test_a_moderator_reads_the_category_labels_in_their_language(digest_moderator):
    digest_moderator.language = "fr"
    digest_moderator.save(update_fields=["language"])
    LocationFactory(name="Quiet corner", category="park")

    moderation_digest_send(period=date(2026, 11, 26))
    deliver_all()

    message = mail.outbox[0]
    assert "Quiet corner (Parc)" in message.body
    assert "(Parc)" in message.alternatives[0][0]
    assert "(Park)" not in message.body
