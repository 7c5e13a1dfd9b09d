"""Background work on photos. Each task takes ids, calls one service and owns its
retries; the decisions are in media_store.services."""

import logging

from celery import shared_task
from celery.utils.time import get_exponential_backoff_interval
from django.conf import settings

from media_store import imaging, services, storage

logger = logging.getLogger(__name__)

# Backoff between task retries: full jitter over 5 s, 10 s, 20 s ... capped at 10 min.
RETRY_BACKOFF_FACTOR = 5
RETRY_BACKOFF_MAX = 600


def _countdown(retries: int, exc: storage.StorageUnavailable) -> int:
    jittered = get_exponential_backoff_interval(
        factor=RETRY_BACKOFF_FACTOR, retries=retries, maximum=RETRY_BACKOFF_MAX, full_jitter=True
    )
    # Never come back before an open breaker would even let the call through.
    return max(jittered, exc.retry_after)


@shared_task(
    bind=True,
    name="media_store.tasks.make_thumbnails",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=settings.IMAGE_THUMBNAIL_MAX_RETRIES,
)
def make_thumbnails(self, image_id: str) -> bool:
    """processing -> ready; failed once storage stayed down through every retry, or at
    once if the stored original is missing or unreadable (retrying cannot fix that)."""
    try:
        return services.image_thumbnails_make(image_id=image_id).changed
    except storage.StorageUnavailable as exc:
        if self.request.retries >= self.max_retries:
            services.image_mark_failed(image_id=image_id)
            raise
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries, exc)) from exc
    except (storage.StorageObjectNotFound, imaging.ImageRejected):
        services.image_mark_failed(image_id=image_id)
        raise


@shared_task(
    bind=True,
    name="media_store.tasks.delete_image_objects",
    acks_late=True,
    reject_on_worker_lost=True,
    max_retries=20,
)
def delete_image_objects(self, image_id: str) -> int:
    """Deferred deletion of a deleted image's objects while storage was down. After the
    last retry the orphan sweep (purge_orphan_images) still finds them."""
    try:
        return services.image_objects_delete_all(image_id=image_id)
    except storage.StorageUnavailable as exc:
        raise self.retry(exc=exc, countdown=_countdown(self.request.retries, exc)) from exc


@shared_task(name="media_store.tasks.purge_orphan_images", acks_late=True)
def purge_orphan_images() -> dict:
    """Periodic (beat): uploads never attached, and objects without a row."""
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
