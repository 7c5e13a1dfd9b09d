from django.conf import settings
from django.core.checks import Warning as CheckWarning
from django.core.checks import register


@register()
def visibility_timeout_covers_tasks(app_configs, **kwargs):
    """Redis redelivers any message unacknowledged for visibility_timeout seconds. A
    task still running (up to the hard time limit) or a retry still waiting for its
    countdown would then run twice."""
    timeout = settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("visibility_timeout", 3600)
    longest = max(settings.CELERY_TASK_TIME_LIMIT, settings.JOBS_RETRY_BACKOFF_MAX)
    if timeout <= longest:
        return [
            CheckWarning(
                f"CELERY_VISIBILITY_TIMEOUT={timeout}s is not above the hard time limit "
                f"({settings.CELERY_TASK_TIME_LIMIT}s) and the longest retry backoff "
                f"({settings.JOBS_RETRY_BACKOFF_MAX}s): such tasks may run twice.",
                hint="Raise CELERY_VISIBILITY_TIMEOUT, or unset it (default: 60 s above both).",
                id="jobs.W001",
            )
        ]
    return []


@register()
def soft_time_limit_below_hard(app_configs, **kwargs):
    # The soft limit lets a task clean up; at or above the hard limit it never fires.
    if settings.CELERY_TASK_SOFT_TIME_LIMIT >= settings.CELERY_TASK_TIME_LIMIT:
        return [
            CheckWarning(
                f"CELERY_TASK_SOFT_TIME_LIMIT ({settings.CELERY_TASK_SOFT_TIME_LIMIT}s) "
                f"should be below CELERY_TASK_TIME_LIMIT ({settings.CELERY_TASK_TIME_LIMIT}s).",
                id="jobs.W002",
            )
        ]
    return []
