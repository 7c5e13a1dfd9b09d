"""Terminal task failures into the dead-letter store.

Connected when jobs is ready (JobsConfig.ready()) and again, harmlessly (dispatch_uid),
by config/celery.py: the worker's Django fixup runs django.setup() in the main process
too, which is where hard time-limit failures fire.
"""

from celery.signals import task_failure

from jobs.task_base import FIRST_FAILED_HEADER, PlacemapTask


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
