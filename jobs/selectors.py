"""Reads about background work: is a worker alive, how much is waiting."""

from __future__ import annotations

import time
from dataclasses import dataclass

import redis
from celery import current_app
from django.conf import settings
from django.core.cache import cache

from jobs.services import WORKER_HEARTBEAT_KEY


@dataclass(frozen=True)
class WorkerHeartbeat:
    hostname: str
    age_seconds: float

    @property
    def fresh(self) -> bool:
        return self.age_seconds <= settings.WORKER_HEARTBEAT_MAX_AGE


def worker_heartbeat_last(*, hostname: str | None = None) -> WorkerHeartbeat | None:
    """The newest heartbeat of the worker `hostname` (of any worker if None), or None if
    none was ever recorded."""
    key = f"{WORKER_HEARTBEAT_KEY}:{hostname}" if hostname else WORKER_HEARTBEAT_KEY
    beat = cache.get(key)
    if beat is None:
        return None
    return WorkerHeartbeat(
        hostname=beat["hostname"], age_seconds=round(max(0.0, time.time() - beat["at"]), 1)
    )


def task_queue_length(*, timeout: float) -> int:
    """Messages waiting in the default queue (not yet reserved by any worker)."""
    client = redis.Redis.from_url(
        settings.CELERY_BROKER_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )
    try:
        # config/celery.py's app (current in every process that loads Django); jobs does
        # not import the wiring. The key as kombu names it (global_keyprefix, if set).
        conf = current_app.conf
        prefix = (conf.broker_transport_options or {}).get("global_keyprefix", "")
        return client.llen(f"{prefix}{conf.task_default_queue}")
    finally:
        client.close()
