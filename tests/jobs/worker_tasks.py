"""Tasks used by the jobs tests, in the test process and in real worker subprocesses
(`celery worker -I tests.jobs.worker_tasks`). What they did is recorded in the test
Redis database, which both processes share, under keys namespaced by a per-test token."""

import os
import time

import redis
from celery import shared_task
from celery.exceptions import SoftTimeLimitExceeded
from django.conf import settings


def state() -> redis.Redis:
    return redis.Redis.from_url(settings.REDIS_URL, socket_timeout=5)


def key(token: str, name: str) -> str:
    return f"jobs-test:{token}:{name}"


@shared_task(ignore_result=True)
def record_run(token: str) -> None:
    state().incr(key(token, "runs"))


@shared_task(ignore_result=True)
def fail_until_fixed(token: str) -> None:
    client = state()
    client.incr(key(token, "runs"))
    if not client.exists(key(token, "fixed")):
        raise ConnectionError("the upstream service is unavailable")
    client.incr(key(token, "done"))


@shared_task(ignore_result=True)
def reject_bad_input(token: str) -> None:
    state().incr(key(token, "runs"))
    raise ValueError(f"record {token} is malformed")


@shared_task(ignore_result=True)
def slow_task(token: str, seconds: float) -> None:
    client = state()
    client.set(key(token, "pid"), os.getpid())
    client.incr(key(token, "started"))
    time.sleep(seconds)
    client.incr(key(token, "completed"))


@shared_task(ignore_result=True)
def kill_own_process(token: str) -> None:
    # What an out-of-memory kill looks like from the worker's side, every single time.
    state().incr(key(token, "runs"))
    os.kill(os.getpid(), 9)


@shared_task(ignore_result=True)
def overrun_time_limits(token: str) -> None:
    # Swallows the soft limit, as a task stuck in a C call effectively does.
    state().incr(key(token, "runs"))
    try:
        time.sleep(30)
    except SoftTimeLimitExceeded:
        time.sleep(30)
