"""Background work on photos. Each task takes ids, calls one service and owns its
retries; the decisions are in media_store.services.

The tasks use the project's base task (jobs.task_base.PlacemapTask): JOBS_MAX_ATTEMPTS
attempts, then a dead letter an operator can requeue. Storage outages are retried here
by hand rather than by the base class's autoretry, so that the countdown can wait for
the storage circuit breaker: a retry that comes back while it is still open would fail
at once and burn an attempt for nothing.
"""

import logging
from datetime import timedelta

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings
from django.db import OperationalError as DatabaseOperationalError

from jobs.task_base import PlacemapTask
from media_store import imaging, services, storage

logger = logging.getLogger(__name__)


def _countdown(retries: int, exc: storage.StorageUnavailable) -> int:
    jittered = get_exponential_backoff_interval(
        factor=2, retries=retries, maximum=settings.JOBS_RETRY_BACKOFF_MAX, full_jitter=True
    )
    # Never before an open breaker would even let the call through.
    return max(jittered, exc.retry_after)


class ThumbnailTask(PlacemapTask):
    def on_dead_letter(self, *, args: list, kwargs: dict) -> None:
        # Out of attempts (or a permanent error): the image keeps its optimized
        # original, served as before, and says it has no thumbnails.
        services.image_mark_failed(image_id=kwargs.get("image_id") or args[0])


@shared_task(
    bind=True, base=ThumbnailTask, name="media_store.tasks.make_thumbnails", autoretry_for=()
)
def make_thumbnails(self, image_id: str) -> bool:
    """processing -> ready. Returns whether anything changed (False on a re-run)."""
    try:
        return services.image_thumbnails_make(image_id=image_id).changed
    except storage.StorageUnavailable as exc:
        # Past the last attempt, retry() re-raises exc: the task fails, is dead-lettered
        # and on_dead_letter marks the image failed.
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries, exc)) from exc
    except DatabaseOperationalError as exc:
        # PostgreSQL down (autoretry_for=() above dropped the base class's retry of it):
        # without this the task is dead-lettered at once, and on_dead_letter cannot mark
        # the image failed either, so it stays `processing` until the periodic re-drive.
        # Not before the database breaker would let a trial call through.
        countdown = max(
            get_exponential_backoff_interval(
                factor=2, retries=self.request.retries,
                maximum=settings.JOBS_RETRY_BACKOFF_MAX, full_jitter=True,
            ),
            settings.BREAKER_RESET_TIMEOUT,
        )  # fmt: skip
        raise self.retry(exc=exc, countdown=countdown) from exc
    except (storage.StorageObjectNotFound, imaging.ImageRejected):
        # The stored original is gone or unreadable: retrying cannot help.
        services.image_mark_failed(image_id=image_id)
        raise


@shared_task(bind=True, name="media_store.tasks.delete_image_objects", autoretry_for=())
def delete_image_objects(self, image_id: str) -> int:
    """Deferred deletion of a deleted image's objects while storage was down. Past the
    last attempt the orphan sweep (purge_orphan_images) still finds them."""
    try:
        return services.image_objects_delete_all(image_id=image_id)
    except storage.StorageUnavailable as exc:
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries, exc)) from exc


# Periodic (beat, hourly): a failed run is simply redone by the next one.
@shared_task(name="media_store.tasks.purge_orphan_images", autoretry_for=())
def purge_orphan_images() -> dict:
    """Uploads never attached to a place, and objects without a row."""
    result = services.images_purge_orphans()
    logger.info(
        "Orphan images purged: %d rows, %d/%d objects",
        result.rows_deleted,
        result.objects_deleted,
        result.objects_scanned,
    )
    return {
        "rows_deleted": result.rows_deleted,
        "objects_scanned": result.objects_scanned,
        "objects_deleted": result.objects_deleted,
    }


# Periodic (beat, every 5 minutes): a failed run is simply redone by the next one.
@shared_task(name="media_store.tasks.redrive_stranded_images", autoretry_for=())
def redrive_stranded_images() -> int:
    return services.images_redrive_stranded(
        older_than=timedelta(seconds=settings.JOBS_REDRIVE_AFTER_SECONDS)
    )
