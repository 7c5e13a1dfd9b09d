"""The Celery app (wiring: it may import any layer).

Safety settings (acks_late, reject_on_worker_lost, retry_on_worker_lost, prefetch 1,
time limits, JSON only, the Redis visibility timeout) live in config/settings/base.py
("Jobs and notifications") and are explained in docs/jobs.md. The base task class every
Placemap task inherits (retries, then the dead-letter store) is jobs.task_base.PlacemapTask;
the dead-letter receiver is in jobs/signals.py.
"""

import os

import kombu.transport.redis
import redis.exceptions
from celery import Celery, bootsteps

# Re-exported: tasks and tests import them from here too.
from jobs.task_base import (
    FIRST_FAILED_HEADER,
    TRANSIENT_ERRORS,
    PlacemapTask,
    _django_setting,
)

__all__ = ["FIRST_FAILED_HEADER", "TRANSIENT_ERRORS", "PlacemapTask", "app"]

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


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
import jobs.signals  # noqa: E402, F401  (dead letters; also connected by JobsConfig.ready())
