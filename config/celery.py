"""The Celery app and the base class every Placemap task inherits.

Safety settings (acks_late, reject_on_worker_lost, retry_on_worker_lost, prefetch 1,
time limits, JSON only, the Redis visibility timeout) live in config/settings/base.py
("Jobs and notifications") and are explained in docs/jobs.md. The base task adds what
Celery leaves to each task: retries with exponential backoff and full jitter, then a
row in the dead-letter store (jobs.DeadLetter) once the last attempt has failed.
"""

import os
import smtplib
import socket

import kombu.exceptions
import kombu.transport.redis
import redis.exceptions
from celery import Celery, Task, bootsteps
from celery.exceptions import SoftTimeLimitExceeded
from celery.signals import task_failure
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.utils import timezone

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Errors worth another attempt: a dependency that is away, slow or busy for a while.
# Anything else (a bug, bad data, IntegrityError) would fail the same way again: it goes
# to the dead-letter store at once, to be requeued after a fix.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (
    ConnectionError,
    TimeoutError,
    socket.gaierror,  # DNS
    smtplib.SMTPException,
    # Postgres restarting or failing over, a deadlock, a serialization failure, a
    # statement timeout; a connection closed under us.
    DatabaseOperationalError,
    DatabaseInterfaceError,
    redis.exceptions.ConnectionError,
    redis.exceptions.TimeoutError,
    kombu.exceptions.OperationalError,
    SoftTimeLimitExceeded,
)

# Carried from attempt to attempt so the dead letter can say when the trouble began.
FIRST_FAILED_HEADER = "placemap_first_failed_at"


class RedisChannel(kombu.transport.redis.Channel):
    """kombu's Redis channel, remembering how to reach Redis.

    Celery 5.7.0's connection-error handler closes the broken broker connection, which
    detaches it from its transport (`transport.client = None`), before the task
    consumer's channel is closed. Closing that channel hands unacknowledged messages
    back to Redis, and kombu 5.7.0 builds that Redis client from `transport.client`:
    `AttributeError: 'NoneType' object has no attribute 'hostname'` escapes the
    handler and the worker exits. No release has both the fix and the options we rely
    on (celery 5.6.x lacks task_retry_on_worker_lost), so the channel keeps the
    connection parameters it was opened with: the hand-back then succeeds, or fails
    with a connection error that Celery handles, and the worker reconnects."""

    def _connparams(self, asynchronous=False):
        remembered = self.__dict__.setdefault("_placemap_connparams", {})
        if asynchronous not in remembered:
            remembered[asynchronous] = super()._connparams(asynchronous=asynchronous)
        # A copy: redis-py pools are built from (and may alter) the dict.
        return dict(remembered[asynchronous])


class RedisTransport(kombu.transport.redis.Transport):
    """The broker transport (CELERY_BROKER_TRANSPORT): kombu's Redis transport with
    RedisChannel. For redis:// URLs only (no rediss:// or sentinel)."""

    Channel = RedisChannel


def _django_setting(name: str):
    # Read when used, not at import: this module is imported (config/__init__.py) before
    # Django settings are necessarily configured.
    from django.conf import settings

    return getattr(settings, name)


class PlacemapTask(Task):
    """Retries transient errors (TRANSIENT_ERRORS) with exponential backoff and full
    jitter, up to JOBS_MAX_ATTEMPTS attempts in all, then dead-letters; other errors are
    dead-lettered at once.

    A task changes what is retried with `autoretry_for=(*TRANSIENT_ERRORS, ...)` or
    `dont_autoretry_for=(...)` in its decorator (an explicit `self.retry()` works as
    usual), and reacts to its own dead-lettering by overriding `on_dead_letter`. Calling a task function directly (`my_task(id)`, as unit tests do)
    runs it inline: no retry, no dead letter, the exception propagates."""

    autoretry_for = TRANSIENT_ERRORS
    retry_backoff = True  # factor 1 s: 1, 2, 4, 8 ... capped by retry_backoff_max
    retry_jitter = True  # full jitter: uniform in [0, backoff] spreads retry storms

    @property
    def max_retries(self) -> int:  # type: ignore[override]
        return _django_setting("JOBS_MAX_ATTEMPTS") - 1

    @property
    def retry_backoff_max(self) -> int:
        return _django_setting("JOBS_RETRY_BACKOFF_MAX")

    @property
    def default_retry_delay(self) -> int:  # type: ignore[override]
        # Used when no countdown is given, notably by retry_on_worker_lost.
        return _django_setting("JOBS_RETRY_DELAY")

    def retry(self, *args, **options):
        headers = dict(self.request.headers or {})
        headers.setdefault(FIRST_FAILED_HEADER, timezone.now().isoformat())
        options["headers"] = headers
        return super().retry(*args, **options)

    def on_dead_letter(self, *, args: list, kwargs: dict) -> None:
        """Called once the task has failed for good and its dead letter is stored."""


@task_failure.connect(dispatch_uid="placemap.dead_letter_on_failure")
def dead_letter_on_failure(
    sender=None, task_id=None, exception=None, args=None, kwargs=None, einfo=None, **extra
):
    # The signal, unlike Task.on_failure, also fires in the worker's main process for a
    # hard time limit and for a task whose worker kept dying (retry_on_worker_lost
    # exhausted), so every terminal failure reaches the store.
    if not isinstance(sender, PlacemapTask):
        return
    from django.utils.dateparse import parse_datetime

    from jobs.services import dead_letter_record

    request = sender.request
    first = (request.headers or {}).get(FIRST_FAILED_HEADER)
    dead_letter = dead_letter_record(
        task_id=task_id,
        task_name=sender.name,
        args=args,
        kwargs=kwargs,
        exc=exception,
        traceback=str(einfo.traceback) if einfo is not None else "",
        attempts=(request.retries or 0) + 1,
        first_failed_at=parse_datetime(first) if first else None,
    )
    sender.app.log.get_default_logger().error(
        "Task %s[%s] failed for good after %d attempt(s): dead letter %d",
        sender.name,
        task_id,
        dead_letter.attempts,
        dead_letter.pk,
    )
    sender.on_dead_letter(args=list(args or []), kwargs=dict(kwargs or {}))


class WorkerHeartbeat(bootsteps.StartStopStep):
    """Records a heartbeat every WORKER_HEARTBEAT_INTERVAL seconds (jobs.services), read
    by /ready and `manage.py worker_heartbeat`. It runs on the worker's event loop, the
    one that consumes: a worker that is dead, wedged or stuck reconnecting to Redis
    stops beating."""

    requires = {"celery.worker.components:Timer"}

    def __init__(self, worker, **kwargs):
        self.timer_entry = None

    def start(self, worker):
        self.beat(worker)
        self.timer_entry = worker.timer.call_repeatedly(
            _django_setting("WORKER_HEARTBEAT_INTERVAL"), self.beat, (worker,)
        )

    def stop(self, worker):
        if self.timer_entry is not None:
            self.timer_entry.cancel()
            self.timer_entry = None

    def beat(self, worker):
        from jobs.services import worker_heartbeat_record

        try:
            worker_heartbeat_record(hostname=worker.hostname)
        except redis.exceptions.RedisError as exc:
            # Redis is away: the missing heartbeat says so; the worker carries on.
            worker.app.log.get_default_logger().warning("Worker heartbeat not recorded: %r", exc)


app = Celery("placemap", task_cls=PlacemapTask)
app.config_from_object("django.conf:settings", namespace="CELERY")
app.steps["worker"].add(WorkerHeartbeat)
app.autodiscover_tasks()

import config.celery_signals  # noqa: E402, F401  (request ids, logging and tracing in workers)
