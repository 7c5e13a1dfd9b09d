"""The worker's readiness check, registered with config.health by JobsConfig.ready()."""

from django.conf import settings

from config.health import READY_CHECK_TIMEOUT


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
