"""Writes of photos: upload, thumbnails, deletion, orphan purge.

Ordering rule that keeps storage and database consistent ("nothing half-written"):
objects are put before their row is committed, and removed after their row's deletion
is committed. A failure between the two steps removes what was put; anything a crash
still leaves behind is an object without a row, which the orphan sweep deletes.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from typing import cast

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from opentelemetry import trace

from config.errors import ApplicationError
from jobs.services import enqueue, outbox_enqueued_args
from media_store import constants, imaging, storage
from media_store.models import Image, ImageModeration, ImageStatus
from media_store.selectors import image_ids_unattachable
from media_store.targets import check_attach_target, run_attached_hooks

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

SWEEP_CURSOR_CACHE_KEY = "media_store:orphan_sweep_cursor"


class ImagesNotAttachable(ApplicationError):
    """Some photos named for a new place are unknown, someone else's, failed or already
    attached (by a concurrent submission too)."""

    field = "image_ids"

    def __init__(self, image_ids: Sequence[uuid.UUID]):
        self.image_ids = list(image_ids)
        super().__init__(
            "Unknown, not yours, or already attached: " + ", ".join(map(str, self.image_ids))
        )


def images_attach(*, image_ids: Sequence[uuid.UUID], uploader, location_id: uuid.UUID) -> None:
    """Attach the uploader's unattached, non-failed photos to the place `location_id`,
    inside the caller's transaction; raises ImagesNotAttachable naming the others (and
    attaches none). The rows are locked FOR UPDATE in id order, so a concurrent
    submission naming the same photo waits, then sees it attached."""
    image_ids = list(image_ids)
    if not image_ids:
        return
    with transaction.atomic():
        unattachable = image_ids_unattachable(image_ids=image_ids, uploader=uploader, lock=True)
        if unattachable:
            raise ImagesNotAttachable(unattachable)
        Image.objects.filter(id__in=image_ids).update(
            location_id=location_id, updated_at=timezone.now()
        )


def image_upload(*, uploader, data: bytes, location_id: uuid.UUID | None = None) -> Image:
    """Optimize `data`, store it, record it, and queue its thumbnails.

    Raises imaging.ImageRejected (not an image we take), targets.ImageTargetInvalid,
    imaging.DecodeBusy (no decode slot free in time) or storage.StorageUnavailable; in
    every case nothing is left stored or recorded."""
    with tracer.start_as_current_span("placemap.photos.upload") as span:
        span.set_attribute("photos.upload_bytes", len(data))
        if location_id is not None:
            # Cheap early refusal before spending CPU and storage on the upload.
            check_attach_target(uploader=uploader, target_id=location_id, lock=False)
        storage.raise_if_unavailable()

        with imaging.decode_slot():
            optimized = imaging.optimize(data)
        span.set_attribute("photos.format", optimized.format)
        span.set_attribute("photos.stored_bytes", len(optimized.data))

        image_id = uuid.uuid4()
        key = constants.original_key(image_id, optimized.format)
        try:
            # Through the storage API, before the transaction (never FieldFile.save(),
            # which would save the row first): the object exists before its row.
            key = storage.image_storage().save(
                key, storage.ImageContent(optimized.data, content_type=optimized.content_type)
            )
        except storage.StorageUnavailable:
            # A timed-out PUT may still land: queue the (idempotent) deletion of whatever
            # is under this image's prefix rather than leave it to the daily sweep.
            _defer_objects_delete(image_id=image_id)
            raise
        try:
            with transaction.atomic():
                if location_id is not None:
                    check_attach_target(uploader=uploader, target_id=location_id, lock=True)
                image = Image.objects.create(
                    id=image_id,
                    uploader=uploader,
                    location_id=location_id,
                    key=key,
                    width=optimized.width,
                    height=optimized.height,
                    content_type=optimized.content_type,
                    size_bytes=len(optimized.data),
                    sha256=optimized.sha256,
                    status=ImageStatus.PROCESSING,
                )
                if location_id is not None:
                    run_attached_hooks(image=image)
                from media_store.tasks import make_thumbnails

                enqueue(make_thumbnails, args=(str(image.id),))
        except BaseException:
            # The row did not commit: its object must not outlive it.
            _cleanup_after_failed_upload(image_id=image_id, key=key)
            raise
        span.set_attribute("photos.image_id", str(image.id))
        return image


def image_delete(*, image: Image) -> None:
    """Delete the row now; its objects go once the deletion commits (signals.py)."""
    with tracer.start_as_current_span("placemap.photos.delete") as span:
        span.set_attribute("photos.image_id", str(image.id))
        image.delete()


def image_objects_delete(*, image_id: uuid.UUID | str, keys: list[str]) -> None:
    """Remove a deleted image's objects. Called after the deletion committed: if storage
    is down, a retrying task takes over (and the orphan sweep is the last net)."""
    _delete_objects_or_defer(image_id=image_id, keys=keys)


def image_objects_delete_all(*, image_id: uuid.UUID | str) -> int:
    """Delete every object under the image's prefix, including any written after its
    row was read (a thumbnail task racing the deletion). Returns how many were found."""
    if Image.objects.filter(id=image_id).exists():
        # Still (or again) recorded: the objects are not orphans.
        return 0
    keys = [obj["Key"] for obj in storage.iter_objects(prefix=f"{constants.KEY_PREFIX}{image_id}/")]
    storage.delete_objects(keys)
    return len(keys)


def _cleanup_after_failed_upload(*, image_id: uuid.UUID, key: str) -> None:
    try:
        _delete_objects_or_defer(image_id=image_id, keys=[key])
    except Exception:
        # Already raising the failure that matters; the orphan sweep deletes the object.
        logger.exception("Could not remove object %s of a failed upload", key)


def _delete_objects_or_defer(*, image_id: uuid.UUID | str, keys: list[str]) -> None:
    try:
        storage.delete_objects(keys)
    except storage.StorageUnavailable:
        _defer_objects_delete(image_id=image_id)


def _defer_objects_delete(*, image_id: uuid.UUID | str) -> None:
    from media_store.tasks import delete_image_objects

    logger.warning("Storage unavailable; deleting image %s objects later", image_id)
    enqueue(delete_image_objects, args=(str(image_id),))


# --- Moderation status (moderation.services decides; these only write) -----------------


def image_lock(*, image_id: uuid.UUID | str) -> Image:
    """The photo, its row locked until the caller's transaction ends, so concurrent
    decisions on it queue. Raises Image.DoesNotExist."""
    return Image.objects.select_for_update().get(id=image_id)


def image_moderation_set(*, image: Image, status: str, remove_objects: bool = True) -> str:
    """Move a photo (locked with image_lock) to moderation `status` and bump its
    version; returns the status it had. A rejection with `remove_objects` removes its
    stored objects once the transaction commits (the row stays for the audit trail and
    can no longer be approved); without it (a suspension's rejection) they are kept so
    a moderator can reverse the decision."""
    from_status = image.moderation_status
    image.moderation_status = status
    image.version += 1
    fields = ["moderation_status", "version", "updated_at"]
    if status == ImageModeration.REJECTED and remove_objects and image.objects_removed_at is None:
        image.objects_removed_at = timezone.now()
        fields.append("objects_removed_at")
        image_id, keys = image.id, image.storage_keys
        transaction.on_commit(
            lambda: _delete_objects_or_defer(image_id=image_id, keys=keys), robust=True
        )
    image.save(update_fields=fields)
    return from_status


def images_lock_of_location(*, location_id, moderation_status: str) -> list[Image]:
    """The photos of a place in `moderation_status`, locked (id order: no deadlock)."""
    return list(
        Image.objects.select_for_update()
        .filter(location_id=location_id, moderation_status=moderation_status)
        .order_by("id")
    )


def images_move(*, from_location_id, to_location_id) -> int:
    """Move every photo of one place to another (a merge, inside the caller's
    transaction); their moderation statuses and objects stay. Returns how many."""
    return Image.objects.filter(location_id=from_location_id).update(
        location_id=to_location_id, updated_at=timezone.now()
    )


def images_lock_of_uploader(*, uploader, moderation_status: str) -> list[Image]:
    """The photos `uploader` uploaded in `moderation_status`, locked (id order)."""
    return list(
        Image.objects.select_for_update()
        .filter(uploader=uploader, moderation_status=moderation_status)
        .order_by("id")
    )


# --- Thumbnails ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ThumbnailResult:
    image: Image | None
    changed: bool


def image_thumbnails_make(*, image_id: uuid.UUID | str) -> ThumbnailResult:
    """Render and store every configured thumbnail size, then mark the image ready.

    Idempotent: keys are derived from the image id and size, and rendering is
    deterministic, so a re-run rewrites the same objects with the same bytes and leaves
    the row untouched. Raises StorageUnavailable (worth retrying), StorageObjectNotFound
    or imaging.ImageRejected (not)."""
    with tracer.start_as_current_span("placemap.photos.thumbnails") as span:
        span.set_attribute("photos.image_id", str(image_id))
        image = Image.objects.filter(id=image_id).first()
        if image is None:
            return ThumbnailResult(image=None, changed=False)  # deleted meanwhile

        # A stored image always has its key (FieldFile.name is typed optional).
        original = storage.get_object_bytes(key=cast(str, image.key.name))
        keys: dict[str, str] = {}
        for size in settings.IMAGE_THUMBNAIL_SIZES:
            thumb = imaging.thumbnail(original, size=size)
            key = constants.thumbnail_key(image.id, size, thumb.format)
            storage.put_object(key=key, body=thumb.data, content_type=thumb.content_type)
            keys[str(size)] = key

        with transaction.atomic():
            current = Image.objects.select_for_update().filter(id=image_id).first()
            if current is None:
                # Deleted while rendering: its deletion could not know these keys.
                transaction.on_commit(
                    lambda: _delete_objects_or_defer(image_id=image_id, keys=list(keys.values()))
                )
                return ThumbnailResult(image=None, changed=False)
            if current.thumbnail_keys == keys and current.status == ImageStatus.READY:
                return ThumbnailResult(image=current, changed=False)
            stale = sorted(set(current.thumbnail_keys.values()) - set(keys.values()))
            current.thumbnail_keys = keys
            current.status = ImageStatus.READY
            current.save(update_fields=["thumbnail_keys", "status", "updated_at"])
            if stale:
                # Sizes or format changed since the last run: drop the old renditions.
                transaction.on_commit(
                    lambda: _delete_objects_or_defer(image_id=image_id, keys=stale)
                )
        return ThumbnailResult(image=current, changed=True)


def image_mark_failed(*, image_id: uuid.UUID | str) -> bool:
    """The thumbnails could not be made (retries exhausted, or a permanent error). The
    optimized image itself is stored and still served."""
    updated = Image.objects.filter(id=image_id, status=ImageStatus.PROCESSING).update(
        status=ImageStatus.FAILED, updated_at=timezone.now()
    )
    return bool(updated)


def images_redrive_stranded(*, older_than: timedelta, batch_size: int = 500) -> int:
    """Enqueue the thumbnails again for images still processing `older_than` after their
    upload whose task was not enqueued within that time either: its message was lost
    (Redis crashed after the outbox sent it, a worker was killed). Safe to repeat:
    image_thumbnails_make is idempotent. Returns how many were enqueued."""
    from media_store.tasks import make_thumbnails

    cutoff = timezone.now() - older_than
    already = outbox_enqueued_args(task=make_thumbnails, since=cutoff)
    stranded = Image.objects.filter(status=ImageStatus.PROCESSING, updated_at__lt=cutoff)
    enqueued = 0
    for image_id in stranded.order_by("updated_at").values_list("id", flat=True)[:batch_size]:
        if (str(image_id),) not in already:
            enqueue(make_thumbnails, args=(str(image_id),))
            enqueued += 1
    if enqueued:
        logger.warning("Re-drove the thumbnails of %d stranded image(s)", enqueued)
    return enqueued


# --- Orphans ------------------------------------------------------------------------------


@dataclass(frozen=True)
class PurgeResult:
    rows_deleted: int
    objects_scanned: int
    objects_deleted: int


def images_purge_orphans(*, older_than: timedelta | None = None) -> PurgeResult:
    """Delete uploads never attached to a place once older than `older_than` (their
    objects follow after commit), then sweep storage for objects whose row is gone."""
    if older_than is None:  # (timedelta(0) is falsy, so no `or` here)
        older_than = timedelta(hours=settings.IMAGE_ORPHAN_MAX_AGE_HOURS)
    cutoff = timezone.now() - older_than
    with tracer.start_as_current_span("placemap.photos.purge_orphans") as span:
        ids = list(
            Image.objects.filter(location__isnull=True, created_at__lt=cutoff)
            .order_by("created_at")
            .values_list("id", flat=True)[: constants.ORPHAN_PURGE_BATCH]
        )
        rows_deleted = 0
        if ids:
            with transaction.atomic():
                # Re-filter: an image attached since the read above must survive.
                rows_deleted, _ = Image.objects.filter(id__in=ids, location__isnull=True).delete()
        scanned, deleted = _sweep_unrecorded_objects(cutoff=cutoff)
        span.set_attribute("photos.rows_deleted", rows_deleted)
        span.set_attribute("photos.objects_deleted", deleted)
        return PurgeResult(
            rows_deleted=rows_deleted, objects_scanned=scanned, objects_deleted=deleted
        )


def _sweep_unrecorded_objects(*, cutoff) -> tuple[int, int]:
    """Objects under images/<id>/ older than `cutoff` whose row does not exist. The age
    guard matters: an upload in flight has put its object but not yet committed its row.
    Each run scans a bounded slice of the bucket, resuming where the last one stopped."""
    start_after = cache.get(SWEEP_CURSOR_CACHE_KEY) or ""
    candidates: dict[str, list[str]] = {}
    scanned = 0
    last_key = ""
    for obj in storage.iter_objects(prefix=constants.KEY_PREFIX, start_after=start_after):
        scanned += 1
        last_key = obj["Key"]
        if obj["LastModified"] < cutoff:
            image_id = last_key[len(constants.KEY_PREFIX) :].split("/", 1)[0]
            candidates.setdefault(image_id, []).append(last_key)
        if scanned >= constants.ORPHAN_SWEEP_MAX_OBJECTS:
            break
    else:
        last_key = ""  # reached the end of the bucket: next run starts over
    cache.set(SWEEP_CURSOR_CACHE_KEY, last_key, timeout=None)

    by_id: dict[str, list[str]] = {}
    for image_id, keys in candidates.items():
        try:
            by_id[str(uuid.UUID(image_id))] = keys
        except ValueError:
            continue  # not a name Placemap gave: not ours to judge
    recorded = {
        str(pk) for pk in Image.objects.filter(id__in=list(by_id)).values_list("id", flat=True)
    }
    orphaned = [key for image_id, keys in by_id.items() if image_id not in recorded for key in keys]
    storage.delete_objects(orphaned)
    return scanned, len(orphaned)
