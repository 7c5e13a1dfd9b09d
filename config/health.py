"""Liveness and readiness probes.

/health touches nothing: it answers as long as the process serves requests.
/ready checks each dependency concurrently, each bounded by READY_CHECK_TIMEOUT, so a
dead dependency costs the probe at most that long.
"""

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout

import redis
from django.conf import settings
from django.db import connections, transaction
from django.http import JsonResponse

from media_store.storage import storage_health

READY_CHECK_TIMEOUT = 2.0


def check_database() -> dict:
    connection = connections["default"]
    try:
        # SET LOCAL, inside a transaction: the timeout ends with it. A session-level SET
        # would stay on the connection when it goes back to the pool, and cancel the next
        # request's long import or export after READY_CHECK_TIMEOUT.
        with transaction.atomic(using="default"), connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = %s", [int(READY_CHECK_TIMEOUT * 1000)])
            cursor.execute("SELECT 1")
            cursor.fetchone()
    finally:
        # Threads get their own connection: close it rather than leak one per probe.
        connection.close()
    return {}


def check_redis() -> dict:
    client = redis.Redis.from_url(
        settings.REDIS_URL,
        socket_connect_timeout=READY_CHECK_TIMEOUT,
        socket_timeout=READY_CHECK_TIMEOUT,
    )
    try:
        client.ping()
    finally:
        client.close()
    return {}


def check_worker() -> dict:
    """Reported, not required: a web process serves reads and takes writes (the outbox
    keeps the work) without a worker, so a dead worker must not take every web process
    out of the load balancer. The worker's own healthcheck is `manage.py
    worker_heartbeat` (docs/operations.md)."""
    from jobs import selectors

    beat = selectors.worker_heartbeat_last()
    detail = {
        "queue_length": selectors.task_queue_length(timeout=READY_CHECK_TIMEOUT),
        "max_age_seconds": settings.WORKER_HEARTBEAT_MAX_AGE,
    }
    if beat is None:
        return {"status": "error", "error": "no worker heartbeat recorded", **detail}
    detail.update(hostname=beat.hostname, age_seconds=beat.age_seconds)
    if not beat.fresh:
        return {"status": "error", "error": "worker heartbeat too old", **detail}
    return detail


CHECKS: dict[str, Callable[[], dict]] = {
    "database": check_database,
    "redis": check_redis,
    "storage": storage_health,
    "worker": check_worker,
}
# Shown in the body, but their failure leaves /ready at 200 (see check_worker).
ADVISORY_CHECKS = frozenset({"worker"})


def _timed(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        extra = check() or {}
        result = {"status": "ok", **extra}
    except Exception as exc:  # a probe reports every failure rather than raising it
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
    result["latency_ms"] = round((time.perf_counter() - started) * 1000, 1)
    return result


def health(request):
    return JsonResponse({"status": "ok"})


def ready(request):
    results: dict[str, dict] = {}
    pool = ThreadPoolExecutor(max_workers=len(CHECKS), thread_name_prefix="ready")
    # Each check runs in a copy of this request's context, so its spans are children of
    # the request's span and its log lines carry the request id.
    futures = {
        name: pool.submit(contextvars.copy_context().run, _timed, check)
        for name, check in CHECKS.items()
    }
    deadline = time.monotonic() + READY_CHECK_TIMEOUT + 0.5
    for name, future in futures.items():
        try:
            results[name] = future.result(timeout=max(0.0, deadline - time.monotonic()))
        except FutureTimeout:
            results[name] = {"status": "error", "error": "timed out", "latency_ms": None}
    pool.shutdown(wait=False, cancel_futures=True)
    healthy = all(
        result["status"] == "ok" for name, result in results.items() if name not in ADVISORY_CHECKS
    )
    response = JsonResponse(
        {"status": "ok" if healthy else "unavailable", "checks": results},
        status=200 if healthy else 503,
    )
    if not healthy:
        response["Retry-After"] = "5"
    return response
