import threading
import time

import pytest
from django.core import mail
from django.core.mail.backends.locmem import EmailBackend as LocmemBackend
from django.db import DatabaseError, connection, transaction

from jobs.models import OutboxMessage
from notifications.models import Notification, NotificationStatus
from notifications.services import notification_deliver, notify
from notifications.tasks import deliver_notification
from tests.support import other_session, wait_for


def submitted(place) -> dict:
    return {"location_id": str(place.id), "location_name": place.name}


class SlowLocmemBackend(LocmemBackend):
    """locmem that takes a moment to "talk to the server", so two deliveries overlap."""

    def send_messages(self, messages):
        time.sleep(0.5)
        return super().send_messages(messages)


def test_notify_records_one_notification_and_enqueues_its_delivery_after_commit(
    submitter, place, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        (notification,) = notify(
            recipient=submitter,
            event="location.submitted",
            context=submitted(place),
            dedupe_key=str(place.id),
        )

    assert notification.idempotency_key == f"location.submitted:{place.id}:email"
    assert notification.status == NotificationStatus.PENDING
    assert notification.payload == submitted(place)
    message = OutboxMessage.objects.get()
    assert message.task_name == deliver_notification.name
    assert message.args == [notification.pk]
    assert len(callbacks) == 1  # the send happens after the caller's commit


def test_the_same_event_and_dedupe_key_never_make_a_second_notification(submitter, place):
    first = notify(
        recipient=submitter, event="location.approved", context=submitted(place), dedupe_key="7"
    )
    again = notify(
        recipient=submitter, event="location.approved", context=submitted(place), dedupe_key="7"
    )

    assert len(first) == 1
    assert again == []
    assert Notification.objects.count() == 1
    assert OutboxMessage.objects.count() == 1


def test_a_duplicate_does_not_break_the_callers_transaction(submitter, place):
    notify(recipient=submitter, event="location.approved", context=submitted(place), dedupe_key="7")
    with transaction.atomic():
        notify(
            recipient=submitter, event="location.approved", context=submitted(place), dedupe_key="7"
        )
        # The caller's transaction is still usable after the duplicate.
        assert Notification.objects.count() == 1


def test_a_rolled_back_event_notifies_nobody(transactional_db, submitter, place):
    with pytest.raises(RuntimeError), transaction.atomic():
        notify(
            recipient=submitter,
            event="location.approved",
            context=submitted(place),
            dedupe_key="7",
        )
        raise RuntimeError("the decision failed")

    assert not Notification.objects.exists()
    assert not OutboxMessage.objects.exists()


def test_notify_refuses_an_unknown_event_or_a_context_missing_keys(submitter, place):
    with pytest.raises(ValueError, match=r"Unknown notification event 'location\.exploded'"):
        notify(recipient=submitter, event="location.exploded", context={}, dedupe_key="1")
    with pytest.raises(ValueError, match=r"lacks \['reason', 'reason_code'\]"):
        notify(
            recipient=submitter, event="location.rejected", context=submitted(place), dedupe_key="1"
        )


def test_notify_for_an_erased_submitter_does_nothing(db, place):
    assert (
        notify(recipient=None, event="location.approved", context=submitted(place), dedupe_key="1")
        == []
    )


def test_a_delivery_task_run_twice_sends_one_email(submitter, place):
    (notification,) = notify(
        recipient=submitter, event="location.approved", context=submitted(place), dedupe_key="1"
    )

    assert deliver_notification(notification.pk) is True
    assert deliver_notification(notification.pk) is False

    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.attempts == 1


def test_two_copies_of_the_delivery_task_running_at_once_send_one_email(
    transactional_db, settings, submitter, place
):
    settings.EMAIL_BACKEND = "tests.notifications.test_services.SlowLocmemBackend"
    (notification,) = notify(
        recipient=submitter, event="location.approved", context=submitted(place), dedupe_key="1"
    )
    barrier = threading.Barrier(2)
    results: list[bool] = []

    def run():
        barrier.wait()
        try:
            results.append(notification_deliver(notification_id=notification.pk))
        finally:
            connection.close()

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(results) == [False, True]
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT


def test_a_notification_deleted_with_its_recipient_is_skipped(submitter, place):
    (notification,) = notify(
        recipient=submitter, event="location.approved", context=submitted(place), dedupe_key="1"
    )
    submitter.delete()

    assert deliver_notification(notification.pk) is False
    assert mail.outbox == []


class SendThenLoseTheDatabase(LocmemBackend):
    """The provider accepts the message, then this worker's database connection dies
    before the delivery commits (the server restarted, the network broke)."""

    def send_messages(self, messages):
        sent = super().send_messages(messages)
        pid = connection.connection.info.backend_pid
        # Autocommit: inside one transaction pg_stat_activity is a snapshot that would
        # show the ended backend for ever.
        with other_session(autocommit=True) as session:
            session.execute("SELECT pg_terminate_backend(%s)", [pid])
            wait_for(
                lambda: (
                    not session.execute(
                        "SELECT 1 FROM pg_stat_activity WHERE pid = %s", [pid]
                    ).fetchone()
                ),
                timeout=10,
                what="the delivering connection to end",
            )
        return sent


def test_a_send_whose_commit_failed_is_not_sent_again_by_the_retry(
    transactional_db, settings, submitter, place
):
    settings.EMAIL_BACKEND = "tests.notifications.test_services.SendThenLoseTheDatabase"
    (notification,) = notify(
        recipient=submitter, event="location.approved", context=submitted(place), dedupe_key="1"
    )

    with pytest.raises(DatabaseError):
        notification_deliver(notification_id=notification.pk)
    connection.close()  # what the worker does with a broken connection before the retry
    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.PENDING  # the commit was lost

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    assert notification_deliver(notification_id=notification.pk) is False

    assert len(mail.outbox) == 1
    notification.refresh_from_db()
    assert notification.status == NotificationStatus.SENT
    assert notification.sent_at is not None
