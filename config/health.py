"""Liveness and readiness probes, and the registry of readiness checks.

/health touches nothing: it answers as long as the process serves requests.
/ready runs each registered check concurrently, each bounded by READY_CHECK_TIMEOUT, so
a dead dependency costs the probe at most that long. The platform registers its own
dependencies (database, Redis: one check per distinct Redis, as the roles are spread over
them, config.redis.instances(); named "redis" while one Redis serves every role, else
"redis:<role>+<role>"; the read replicas, advisory, when DATABASE_REPLICA_URLS names any); an app registers its own from its AppConfig.ready()
(media_store: photo storage; jobs: the worker heartbeat), so this module imports no app.
"""

import contextvars
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from concurrent.futures import TimeoutError as FutureTimeout
from functools import partial

import redis
from django.db import connections, transaction
from django.http import JsonResponse

from config import db_router
from config import redis as redis_roles

READY_CHECK_TIMEOUT = 2.0


class CheckFailed(Exception):
    """A failed check that still reports its detail (merged into its entry)."""

    def __init__(self, message: str, detail: dict):
        super().__init__(message)
        self.detail = detail


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


def _ping_redis(url: str, roles: tuple[str, ...]) -> dict:
    client = redis.Redis.from_url(
        url, socket_connect_timeout=READY_CHECK_TIMEOUT, socket_timeout=READY_CHECK_TIMEOUT
    )
    try:
        client.ping()
    finally:
        client.close()
    return {"roles": list(roles)}


def redis_checks() -> dict[str, Callable[[], dict]]:
    """One check per distinct Redis of the live settings, each naming the roles it serves:
    a dead broker Redis then shows as such, not as "Redis"."""
    found = redis_roles.instances()
    if len(found) == 1:
        [(url, roles)] = found.items()
        return {"redis": partial(_ping_redis, url, roles)}
    return {
        f"redis:{'+'.join(roles)}": partial(_ping_redis, url, roles) for url, roles in found.items()
    }


def check_replicas() -> dict:
    """Stands in the registry for the read replicas' check, which registered_checks()
    binds to the replicas of the moment (or leaves out when there are none)."""
    raise NotImplementedError("expanded by registered_checks()")


def _replicas_report(infos: dict[str, dict]) -> dict:
    """Each read replica (config.db_router): up, replay lag in seconds, whether reads
    use it. Advisory: the primary serves every read while they are away."""
    report = db_router.replica_report(infos)
    down = sorted(alias for alias, found in report["replicas"].items() if not found["used"])
    if down:
        raise CheckFailed(f"not used: {', '.join(down)}", report)
    return report


def check_redis() -> dict:
    """Stands in the registry for redis_checks(), which registered_checks() expands."""
    raise NotImplementedError("expanded by registered_checks()")


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
    checks: dict[str, Callable[[], dict]] = {}
    for name, check in CHECKS.items():
        if check is check_redis:
            checks.update(redis_checks())
        elif check is check_replicas:
            if db_router.replica_aliases():  # else nothing to report
                checks[name] = partial(_replicas_report, db_router.conninfos())
        else:
            checks[name] = check
    return checks


register_check("database", check_database)
register_check("redis", check_redis)
register_check("replicas", check_replicas, advisory=True)


def _timed(check: Callable[[], dict]) -> dict:
    started = time.perf_counter()
    try:
        extra = check() or {}
        result = {"status": "ok", **extra}
    except Exception as exc:  # a probe reports every failure rather than raising it
        result = {"status": "error", "error": f"{type(exc).__name__}: {exc}"[:300]}
        if isinstance(exc, CheckFailed):
            result.update(exc.detail)
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
