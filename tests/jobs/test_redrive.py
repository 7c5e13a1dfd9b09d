"""Work whose message was lost (Redis crashed after the outbox sent it, a worker was
killed) is enqueued again by the periodic re-drive, and done once."""

from datetime import timedelta

from django.core import mail
from django.db import transaction
from django.utils import timezone

from jobs.models import OutboxMessage
from media_store.models import Image, ImageStatus
from media_store.services import image_upload
from media_store.tasks import make_thumbnails, redrive_stranded_images
from notifications.models import Notification, NotificationStatus
from notifications.services import notify
from notifications.tasks import deliver_notification, redrive_pending_notifications
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store import samples
from tests.support import broker_key, wait_for

AN_HOUR_AGO = timezone.now() - timedelta(hours=1)


def lose_queued_messages(broker) -> None:
    """What a Redis crash without persistence does to messages sent but not yet run."""
    broker.delete(*(broker_key(name) for name in ("celery", "unacked", "unacked_index")))


def age_outbox(task) -> None:
    OutboxMessage.objects.filter(task_name=task.name).update(
        created_at=timezone.now() - timedelta(hours=1)
    )


def test_an_image_left_processing_with_no_message_queued_gets_its_thumbnails_after_the_redrive(
    broker, start_worker
):
    image = image_upload(uploader=UserFactory(), data=samples.jpeg(900, 600))
    assert OutboxMessage.objects.get(task_name=make_thumbnails.name).sent_at is not None
    lose_queued_messages(broker)
    Image.objects.filter(id=image.id).update(updated_at=AN_HOUR_AGO)
    age_outbox(make_thumbnails)
    worker = start_worker()

    assert redrive_stranded_images() == 1

    ready = wait_for(
        lambda: Image.objects.filter(id=image.id, status=ImageStatus.READY).first(),
        timeout=60,
        what="the re-driven thumbnails",
        log=worker.log,
    )
    assert set(ready.thumbnail_keys) == {"256", "1024"}
    # Not again while its re-drive is recent, nor once it is ready.
    assert redrive_stranded_images() == 0
    age_outbox(make_thumbnails)
    assert redrive_stranded_images() == 0


def test_a_recent_upload_still_processing_is_left_to_its_own_message(broker, transactional_db):
    image_upload(uploader=UserFactory(), data=samples.jpeg(300, 200))
    assert redrive_stranded_images() == 0


def test_a_pending_notification_is_sent_exactly_once_even_if_redriven_twice(
    broker, transactional_db
):
    submitter = UserFactory()
    place = LocationFactory(submitter=submitter)
    with transaction.atomic():
        (notification,) = notify(
            recipient=submitter,
            event="location.approved",
            context={"location_id": str(place.id), "location_name": place.name},
            dedupe_key="redrive",
        )
    lose_queued_messages(broker)
    Notification.objects.filter(pk=notification.pk).update(created_at=AN_HOUR_AGO)

    age_outbox(deliver_notification)
    assert redrive_pending_notifications() == 1
    assert redrive_pending_notifications() == 0  # just re-driven: left alone
    age_outbox(deliver_notification)
    assert redrive_pending_notifications() == 1

    # The original message and both re-drives all reach a worker (lost ones included).
    deliveries = OutboxMessage.objects.filter(task_name=deliver_notification.name)
    assert deliveries.count() == 3
    results = [deliver_notification(*message.args) for message in deliveries]

    assert results.count(True) == 1
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    age_outbox(deliver_notification)
    assert redrive_pending_notifications() == 0
