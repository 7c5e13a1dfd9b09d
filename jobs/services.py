"""The one way Placemap hands work to Celery, and what happens when work fails for good.

`enqueue(task, ...)` writes an outbox row inside the caller's transaction and sends the
task once that transaction commits. If the broker is unreachable at that moment the row
stays unsent and the periodic relay (`jobs.tasks.relay_outbox`) sends it later: work is
never lost between a commit and a Redis outage. Delivery is at least once, so tasks must
be idempotent (they take ids and check state before acting).
"""

from __future__ import annotations

import enum
import json
import logging
import time
from datetime import datetime, timedelta
from typing import Any

import kombu.exceptions
import redis.exceptions
from celery import Task, current_app
from django.conf import settings
from django.core.cache import cache
from django.core.serializers.json import DjangoJSONEncoder
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from opentelemetry import trace

from jobs.models import DeadLetter, OutboxMessage

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

# Publishing happens after a commit, often inside a request: fail fast and leave the row
# to the relay rather than hold the response while Redis is away.
FAST_PUBLISH_RETRY_POLICY = {
    "max_retries": 1,
    "interval_start": 0,
    "interval_step": 0.2,
    "interval_max": 0.2,
}


def _as_json(value: Any) -> Any:
    # Celery is configured for JSON only; normalising here (UUID, datetime, Decimal ->
    # str) makes an immediate send and a relayed one deliver identical arguments, and
    # fails at the call site rather than in a worker for anything JSON cannot carry.
    return json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def enqueue(task: Task, *, args: tuple | list = (), kwargs: dict | None = None) -> OutboxMessage:
    """Send `task` after the current transaction commits (at once outside one).

    The outbox row is part of the caller's transaction: a rollback discards the work
    with everything else, a commit guarantees it is sent, now or by the relay."""
    with tracer.start_as_current_span("placemap.jobs.enqueue") as span:
        span.set_attribute("placemap.task_name", task.name)
        message = OutboxMessage.objects.create(
            task_name=task.name, args=_as_json(list(args)), kwargs=_as_json(kwargs or {})
        )
        span.set_attribute("placemap.task_id", str(message.task_id))
    message_id = message.pk
    # robust: the caller's work is committed; a broker outage must not turn it into an
    # error (the relay will send the row).
    transaction.on_commit(lambda: outbox_message_send(message_id=message_id), robust=True)
    return message


def _publish(message: OutboxMessage, *, retry_policy: dict | None = None) -> None:
    options: dict[str, Any] = {"task_id": str(message.task_id)}
    if retry_policy is not None:
        options["retry_policy"] = retry_policy
    # current_app is the app of config/celery.py, which config/__init__.py creates (as
    # current) in every process that loads Django; jobs does not import the wiring.
    task = current_app.tasks.get(message.task_name)
    if task is not None:
        # Through the registered task, so its own routing and options apply.
        task.apply_async(args=message.args, kwargs=message.kwargs, **options)
    else:
        # Not imported in this process (a management command, say): route by name.
        current_app.send_task(
            message.task_name, args=message.args, kwargs=message.kwargs, **options
        )


class SendResult(enum.Enum):
    SENT = "sent"
    BROKER_DOWN = "broker_down"
    REFUSED = "refused"


# Errors that mean "the broker is not there right now": the next try may succeed.
BROKER_ERRORS = (kombu.exceptions.OperationalError, redis.exceptions.RedisError, OSError)


def _send_locked(message: OutboxMessage, *, retry_policy: dict | None) -> SendResult:
    message.send_attempts += 1
    error: Exception
    try:
        _publish(message, retry_policy=retry_policy)
    except BROKER_ERRORS as exc:
        result, log = SendResult.BROKER_DOWN, logger.warning
        error = exc
    except Exception as exc:
        # Not the broker (a task that cannot be serialized, say): keep the row and its
        # error for an operator (admin), and let the relay move on to the next rows.
        result, log = SendResult.REFUSED, logger.error
        error = exc
    else:
        message.sent_at = timezone.now()
        message.last_error = ""
        message.save(update_fields=["send_attempts", "sent_at", "last_error"])
        return SendResult.SENT
    message.last_error = f"{type(error).__name__}: {error}"[:2000]
    message.save(update_fields=["send_attempts", "last_error"])
    log(
        "Outbox message %s (%s) not sent, left for the relay: %s",
        message.task_id,
        message.task_name,
        message.last_error,
    )
    return result


def _send_one(*, message_id: int, retry_policy: dict | None) -> SendResult | None:
    with transaction.atomic():
        # The row lock keeps the after-commit send and the relay from publishing the same
        # row twice; whoever finds it locked skips it. A crash after publishing but
        # before this commit leaves the row unsent: it is sent again (at least once).
        message = (
            OutboxMessage.objects.select_for_update(skip_locked=True)
            .filter(pk=message_id, sent_at__isnull=True)
            .first()
        )
        if message is None:
            return None
        return _send_locked(message, retry_policy=retry_policy)


def outbox_message_send(*, message_id: int) -> bool:
    """Publish one outbox row unless it is already sent or being sent. True if sent now."""
    return _send_one(message_id=message_id, retry_policy=FAST_PUBLISH_RETRY_POLICY) is (
        SendResult.SENT
    )


def outbox_relay(*, older_than: timedelta | None = None, batch_size: int = 500) -> int:
    """Send unsent outbox rows older than `older_than` (younger ones are still being sent
    after their commit). Each row commits on its own, so a failure never re-sends rows
    already sent. Stops at the first broker error: the next rows would fail the same
    way. Returns how many rows were sent."""
    if older_than is None:
        older_than = timedelta(seconds=settings.JOBS_OUTBOX_GRACE_SECONDS)
    cutoff = timezone.now() - older_than
    sent = 0
    with tracer.start_as_current_span("placemap.jobs.outbox_relay") as span:
        candidates = list(
            OutboxMessage.objects.filter(sent_at__isnull=True, created_at__lte=cutoff)
            .order_by("id")
            .values_list("pk", flat=True)[:batch_size]
        )
        for message_id in candidates:
            # Default publish retries: the relay runs in a worker, it can wait.
            result = _send_one(message_id=message_id, retry_policy=None)
            if result is SendResult.SENT:
                sent += 1
            elif result is SendResult.BROKER_DOWN:
                break
        span.set_attribute("placemap.outbox.sent", sent)
    if sent:
        logger.info("Outbox relay sent %d message(s)", sent)
    return sent


def outbox_enqueued_args(*, task: Task, since: datetime) -> set[tuple]:
    """Argument tuples of `task` enqueued since `since`, or enqueued earlier and still
    waiting for the relay: work a re-drive must not enqueue again."""
    rows = OutboxMessage.objects.filter(task_name=task.name).filter(
        Q(created_at__gte=since) | Q(sent_at__isnull=True)
    )
    return {tuple(args) for args in rows.values_list("args", flat=True)}


def outbox_purge_sent(*, older_than: timedelta) -> int:
    """Delete outbox rows sent more than `older_than` ago; they only serve debugging."""
    deleted, _ = OutboxMessage.objects.filter(sent_at__lt=timezone.now() - older_than).delete()
    return deleted


def dead_letter_record(
    *,
    task_id: str,
    task_name: str,
    args: list | tuple | None,
    kwargs: dict | None,
    exc: BaseException,
    traceback: str,
    attempts: int,
    first_failed_at: datetime | None,
) -> DeadLetter:
    """Store a task that failed for good, with everything needed to run it again."""
    now = timezone.now()
    return DeadLetter.objects.create(
        task_id=task_id or "",
        task_name=task_name,
        args=_as_json(list(args or [])),
        kwargs=_as_json(kwargs or {}),
        exception_type=f"{type(exc).__module__}.{type(exc).__qualname__}",
        exception_message=str(exc)[:10_000],
        traceback=traceback or "",
        attempts=attempts,
        first_failed_at=first_failed_at or now,
        last_failed_at=now,
    )


def dead_letter_requeue(*, dead_letter: DeadLetter) -> OutboxMessage:
    """Run a dead-lettered task again (through the outbox, with a fresh retry budget)."""
    with transaction.atomic():
        locked = DeadLetter.objects.select_for_update().get(pk=dead_letter.pk)
        message = OutboxMessage.objects.create(
            task_name=locked.task_name, args=locked.args, kwargs=locked.kwargs
        )
        locked.requeued_at = timezone.now()
        locked.requeued_task_id = message.task_id
        locked.save(update_fields=["requeued_at", "requeued_task_id"])
        message_id = message.pk
        transaction.on_commit(lambda: outbox_message_send(message_id=message_id), robust=True)
    dead_letter.refresh_from_db()
    return message


def dead_letters_requeue_all() -> int:
    """Requeue every dead letter not requeued yet. Returns how many."""
    count = 0
    for dead_letter in DeadLetter.objects.filter(requeued_at__isnull=True).order_by("id"):
        dead_letter_requeue(dead_letter=dead_letter)
        count += 1
    return count


def dead_letters_purge(*, include_unresolved: bool = False, ids: list[int] | None = None) -> int:
    """Delete dead letters: by default only those already requeued (their history is in
    the outbox and the logs); `include_unresolved` also drops those never requeued."""
    queryset = DeadLetter.objects.all()
    if ids is not None:
        queryset = queryset.filter(pk__in=ids)
    if not include_unresolved:
        queryset = queryset.filter(requeued_at__isnull=False)
    deleted, _ = queryset.delete()
    return deleted


# --- Worker heartbeat ---------------------------------------------------------------------

WORKER_HEARTBEAT_KEY = "jobs:worker-heartbeat"
# Kept far longer than WORKER_HEARTBEAT_MAX_AGE: a dead worker then reads "last seen N s
# ago" rather than "never seen".
WORKER_HEARTBEAT_TTL = 7 * 24 * 3600


def worker_heartbeat_record(*, hostname: str) -> None:
    """Record that the worker `hostname` is alive now (its own key and the newest one)."""
    beat = {"hostname": hostname, "at": time.time()}
    cache.set_many(
        {f"{WORKER_HEARTBEAT_KEY}:{hostname}": beat, WORKER_HEARTBEAT_KEY: beat},
        timeout=WORKER_HEARTBEAT_TTL,
    )
