"""The base class every Placemap task inherits, and the retry policy it applies.

Celery leaves to each task what happens on failure; PlacemapTask adds retries with
exponential backoff and full jitter, then a row in the dead-letter store
(jobs.DeadLetter, written by jobs/signals.py) once the last attempt has failed.
config/celery.py makes it the app's task class. This module imports no model: it is
imported (config/__init__.py, through config/celery.py) before the apps are ready.
"""

import smtplib
import socket

import kombu.exceptions
import redis.exceptions
from celery import Task
from celery.exceptions import SoftTimeLimitExceeded
from django.db import InterfaceError as DatabaseInterfaceError
from django.db import OperationalError as DatabaseOperationalError
from django.utils import timezone

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
