"""Liveness and readiness probes, and the registry of readiness checks.

/health touches nothing: it answers as long as the process serves requests.
/ready runs each registered check concurrently, each bounded by READY_CHECK_TIMEOUT, so
a dead dependency costs the probe at most that long. The platform registers its own
dependencies (database, Redis); an app registers its own from its AppConfig.ready()
(media_store: photo storage; jobs: the worker heartbeat), so this module imports no app.
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


# name -> check; a check returns extra detail for the body or raises. Registration order
# is the order of the body's "checks".
CHECKS: dict[str, Callable[[], dict]] = {}
# Shown in the body, but their failure leaves /ready at 200 (a web process serves without
# them, e.g. the worker: see jobs/health.py).
ADVISORY_CHECKS: set[str] = set()


def register_check(name: str, check: Callable[[], dict], *, advisory: bool = False) -> None:
    """Add `check` to /ready. Registering a name again replaces its check (an app's
    ready() may run more than once in tests)."""
    CHECKS[name] = check
    if advisory:
        ADVISORY_CHECKS.add(name)
    else:
        ADVISORY_CHECKS.discard(name)


def registered_checks() -> dict[str, Callable[[], dict]]:
    return dict(CHECKS)


register_check("database", check_database)
register_check("redis", check_redis)


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
    checks = registered_checks()
    pool = ThreadPoolExecutor(max_workers=max(1, len(checks)), thread_name_prefix="ready")
    # Each check runs in a copy of this request's context, so its spans are children of
    # the request's span and its log lines carry the request id.
    futures = {
        name: pool.submit(contextvars.copy_context().run, _timed, check)
        for name, check in checks.items()
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
