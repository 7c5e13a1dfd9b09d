from io import BytesIO

import pytest
from PIL import Image as PILImage

from jobs.models import DeadLetter
from media_store import services, storage
from media_store.models import Image, ImageStatus
from media_store.tasks import make_thumbnails
from tests.media_store import samples
from tests.media_store.test_upload_api import fetch
from tests.support import wait_for


def object_etags(image_id) -> dict[str, str]:
    return {obj["Key"]: obj["ETag"] for obj in storage.iter_objects(prefix=f"images/{image_id}/")}


def wait_for_status(image_id, statuses, timeout=60.0) -> Image:
    return wait_for(
        lambda: Image.objects.filter(id=image_id, status__in=statuses).first(),
        timeout=timeout,
        what=f"image {image_id} to become one of {sorted(statuses)}",
    )


def test_a_real_worker_makes_the_thumbnails_and_marks_the_image_ready(
    celery_worker_process, upload, user_client
):
    response = upload(samples.jpeg(1500, 1000))
    assert response.status_code == 201
    image_id = response.json()["id"]

    image = wait_for_status(image_id, {ImageStatus.READY, ImageStatus.FAILED})

    assert image.status == ImageStatus.READY, celery_worker_process.read_text()[-3000:]
    assert image.thumbnail_keys == {
        "256": f"images/{image_id}/thumb-256.webp",
        "1024": f"images/{image_id}/thumb-1024.webp",
    }
    assert set(object_etags(image_id)) == {image.key, *image.thumbnail_keys.values()}
    for size, expected in (("256", (256, 171)), ("1024", (1024, 683))):
        thumb = PILImage.open(BytesIO(storage.get_object_bytes(key=image.thumbnail_keys[size])))
        assert thumb.format == "WEBP" and thumb.size == expected

    # The detail now links the smallest thumbnail, and the link works.
    detail = user_client.get(f"/api/v1/images/{image_id}").json()
    assert detail["status"] == "ready"
    assert fetch(detail["thumbnail_url"])[:4] == b"RIFF"
    assert set(detail["thumbnails"]) == {"256", "1024"}

    # Running the task again rewrites the same objects with the same bytes and leaves
    # the row as it was.
    etags_before, updated_before = object_etags(image_id), image.updated_at
    assert make_thumbnails.apply(args=(image_id,)).get() is False
    image.refresh_from_db()
    assert object_etags(image_id) == etags_before
    assert image.updated_at == updated_before and image.status == ImageStatus.READY


@pytest.mark.django_db
def test_thumbnails_of_a_transparent_png_keep_their_alpha(upload, settings):
    settings.IMAGE_THUMBNAIL_FORMAT = "JPEG"  # JPEG cannot: the pipeline picks WebP
    image_id = upload(samples.png_with_alpha(600, 400), name="a.png").json()["id"]

    result = services.image_thumbnails_make(image_id=image_id)

    assert result.changed
    key = result.image.thumbnail_keys["256"]
    assert key.endswith(".webp")
    thumb = PILImage.open(BytesIO(storage.get_object_bytes(key=key)))
    assert thumb.mode == "RGBA" and thumb.getpixel((10, 10))[3] == 0


@pytest.mark.django_db
def test_the_task_marks_the_image_failed_once_its_retries_are_spent(upload, settings):
    image_id = upload(samples.webp()).json()["id"]
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # storage gone
    settings.STORAGE_RETRY_WAIT_INITIAL = 0

    result = make_thumbnails.apply(args=(image_id,), retries=make_thumbnails.max_retries)

    assert isinstance(result.result, storage.StorageUnavailable)
    assert Image.objects.get(id=image_id).status == ImageStatus.FAILED
    # ...and an operator finds it in the dead-letter store, to requeue once storage is back.
    assert DeadLetter.objects.filter(task_name=make_thumbnails.name, args=[image_id]).exists()


@pytest.mark.django_db
def test_the_task_marks_the_image_failed_at_once_when_its_original_is_gone(upload):
    image_id = upload(samples.webp()).json()["id"]
    storage.delete_objects([Image.objects.get(id=image_id).key])

    result = make_thumbnails.apply(args=(image_id,))

    assert isinstance(result.result, storage.StorageObjectNotFound)
    assert Image.objects.get(id=image_id).status == ImageStatus.FAILED


@pytest.mark.django_db
def test_the_task_does_nothing_for_an_image_deleted_before_it_ran():
    assert make_thumbnails.apply(args=("00000000-0000-4000-8000-000000000000",)).get() is False


def test_a_retry_waits_at_least_until_the_open_breaker_lets_calls_through():
    from media_store.tasks import _countdown

    waits = {_countdown(0, storage.StorageUnavailable("open", retry_after=25)) for _ in range(50)}

    assert min(waits) >= 25
