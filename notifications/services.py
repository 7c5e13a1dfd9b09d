"""Telling people what happened to their places (and moderators what is waiting).

notify() is called inside the transaction that caused the event: it writes one
Notification row per channel that reaches the recipient, each with a unique idempotency
key, and enqueues its delivery through the jobs outbox (sent after commit). Delivery
locks the row and checks its status in the same transaction as the send, so a task that
runs twice still sends one message. A send is also remembered in the cache's Redis, so a
database that fails between the provider's acceptance and the commit does not make the
retry send it again.
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta

from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from opentelemetry import trace
from redis.exceptions import RedisError

from jobs.services import enqueue, outbox_enqueued_args
from notifications.channels import CHANNELS, channels_reaching
from notifications.digests import digests
from notifications.events import event as registered_event
from notifications.models import Notification, NotificationStatus

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)


def notify(*, recipient, event: str, context: dict, dedupe_key: str) -> list[Notification]:
    """Record that `recipient` must hear about `event` and schedule the delivery. Call
    inside the transaction that made the event happen. The same (event, dedupe_key)
    never yields a second notification. Returns the notifications created now."""
    from notifications.tasks import deliver_notification

    missing = registered_event(event).required_keys - context.keys()
    if missing:
        raise ValueError(f"Context for {event!r} lacks {sorted(missing)}.")
    if recipient is None:  # an erased account: nobody to tell
        return []
    # Stored as JSON: UUIDs and datetimes become strings now, not in the worker.
    payload = json.loads(json.dumps(context, cls=DjangoJSONEncoder))
    created: list[Notification] = []
    with tracer.start_as_current_span("placemap.notifications.notify") as span:
        span.set_attribute("placemap.event", event)
        for channel in channels_reaching(recipient):
            key = f"{event}:{dedupe_key}:{channel.name}"
            try:
                # A savepoint: a duplicate must not break the caller's transaction.
                with transaction.atomic():
                    notification = Notification.objects.create(
                        recipient=recipient,
                        event=event,
                        channel=channel.name,
                        idempotency_key=key,
                        payload=payload,
                    )
            except IntegrityError:
                if not Notification.objects.filter(idempotency_key=key).exists():
                    raise
                continue
            enqueue(deliver_notification, args=(notification.pk,))
            created.append(notification)
        span.set_attribute("placemap.notifications.created", len(created))
    return created


# How long the cache remembers a send (_remember_sent): longer than a delivery's retries
# and the re-drive of pending rows take.
SENT_MARKER_SECONDS = 7 * 24 * 3600


def _sent_marker(notification: Notification) -> str:
    # The creation time too: a primary key alone may be issued again (a database restored
    # from a backup), and its new row must not pass for sent.
    return f"notifications:sent:{notification.pk}:{notification.created_at.timestamp()}"


def _remember_sent(notification: Notification) -> None:
    """A second record of the send, outside PostgreSQL, written as soon as the channel
    returns: should the commit that marks the row sent fail (the database went away),
    the retry finds it and marks the row instead of sending again."""
    try:
        cache.set(_sent_marker(notification), 1, timeout=SENT_MARKER_SECONDS)
    except RedisError:
        logger.warning("Could not remember notification %s as sent", notification.pk)


def _remembered_sent(notification: Notification) -> bool:
    try:
        return cache.get(_sent_marker(notification)) is not None
    except RedisError:
        return False  # the row alone decides, as it always does


def notification_deliver(*, notification_id: int) -> bool:
    """Send one notification unless it was already sent. True if sent by this call.

    The row stays locked while the channel sends, so a second copy of the task waits and
    then sees it sent. A send the row does not show (the database failed before the
    commit) is found in the cache's Redis (_remember_sent) and only marked. Only if both
    are lost, or the process dies between the provider's acceptance and that cache write,
    does the retry send it again: at least once at that one edge."""
    with tracer.start_as_current_span("placemap.notifications.deliver") as span:
        span.set_attribute("placemap.notification_id", notification_id)
        try:
            with transaction.atomic():
                notification = (
                    Notification.objects.select_for_update()
                    .select_related("recipient")
                    .filter(pk=notification_id)
                    .first()
                )
                if notification is None:
                    # Deleted with its recipient (account erasure): nothing to deliver.
                    return False
                if notification.status == NotificationStatus.SENT:
                    span.set_attribute("placemap.notifications.duplicate", True)
                    return False
                recovered = _remembered_sent(notification)
                if recovered:
                    span.set_attribute("placemap.notifications.recovered", True)
                else:
                    CHANNELS[notification.channel].send(notification=notification)
                    _remember_sent(notification)
                notification.status = NotificationStatus.SENT
                notification.sent_at = timezone.now()
                notification.attempts = F("attempts") + 1
                notification.last_error = ""
                notification.save(update_fields=["status", "sent_at", "attempts", "last_error"])
        except Exception as exc:
            # Recorded outside the rolled-back transaction, then re-raised for the retry.
            Notification.objects.filter(pk=notification_id).exclude(
                status=NotificationStatus.SENT
            ).update(attempts=F("attempts") + 1, last_error=f"{type(exc).__name__}: {exc}"[:2000])
            raise
    return not recovered


def notification_mark_failed(*, notification_id: int) -> None:
    """After the last delivery attempt: failed (a dead-letter requeue may still send it)."""
    Notification.objects.filter(pk=notification_id).exclude(status=NotificationStatus.SENT).update(
        status=NotificationStatus.FAILED
    )


def notifications_redrive_pending(*, older_than: timedelta, batch_size: int = 500) -> int:
    """Enqueue the delivery again for notifications still pending `older_than` after
    their creation whose task was not enqueued within that time either: its message was
    lost (Redis crashed, a worker was killed). Safe to repeat: notification_deliver
    sends once. Returns how many were enqueued."""
    from notifications.tasks import deliver_notification

    cutoff = timezone.now() - older_than
    already = outbox_enqueued_args(task=deliver_notification, since=cutoff)
    pending = Notification.objects.filter(status=NotificationStatus.PENDING, created_at__lt=cutoff)
    enqueued = 0
    for pk in pending.order_by("created_at").values_list("pk", flat=True)[:batch_size]:
        if (pk,) not in already:
            enqueue(deliver_notification, args=(pk,))
            enqueued += 1
    if enqueued:
        logger.warning("Re-drove the delivery of %d pending notification(s)", enqueued)
    return enqueued


def digests_send(*, period: date | None = None) -> int:
    """Send every registered digest (notifications.digests) for `period` (a day, today
    by default): one per recipient per period, so running it twice the same day mails
    nobody twice. A digest with nothing to say (content None) is sent to nobody.
    Returns how many digests were scheduled."""
    period = period or timezone.now().date()
    scheduled = 0
    for digest in digests():
        context = digest.content(period=period)
        if context is None:
            continue
        for recipient in digest.recipients():
            with transaction.atomic():
                scheduled += len(
                    notify(
                        recipient=recipient,
                        event=digest.event,
                        context=context,
                        dedupe_key=f"{period.isoformat()}:{recipient.pk}",
                    )
                )
    return scheduled


# The name the digest task and tests have always called.
moderation_digest_send = digests_send
