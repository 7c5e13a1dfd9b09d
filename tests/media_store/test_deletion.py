import json
import time
from datetime import timedelta

import pytest
import redis
from django.conf import settings as django_settings
from django.utils import timezone

from media_store import constants, services, storage
from media_store.models import Image
from media_store.tasks import delete_image_objects, purge_orphan_images
from tests.locations.factories import LocationFactory
from tests.media_store import samples
from tests.support import broker_key

pytestmark = pytest.mark.django_db


def keys_of(image_id) -> set[str]:
    return {obj["Key"] for obj in storage.iter_objects(prefix=f"images/{image_id}/")}


def uploaded_with_thumbnails(upload, **fields) -> Image:
    response = upload(samples.jpeg(800, 600), **fields)
    assert response.status_code == 201, response.json()
    image = services.image_thumbnails_make(image_id=response.json()["id"]).image
    assert len(keys_of(image.id)) == 1 + len(django_settings.IMAGE_THUMBNAIL_SIZES)
    return image


def queued_tasks(name: str) -> list[dict]:
    """Messages waiting on the test broker (Redis list named after the queue)."""
    client = redis.Redis.from_url(django_settings.CELERY_BROKER_URL)
    messages = [json.loads(raw) for raw in client.lrange(broker_key("celery"), 0, -1)]
    return [m for m in messages if m["headers"]["task"] == name]


def test_deleting_an_image_removes_all_its_objects(
    upload, user_client, django_capture_on_commit_callbacks
):
    image = uploaded_with_thumbnails(upload)

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.delete(f"/api/v1/images/{image.id}")

    assert response.status_code == 204
    assert not Image.objects.filter(id=image.id).exists()
    assert keys_of(image.id) == set()


def test_deleting_a_place_removes_its_images_objects(
    upload, user, django_capture_on_commit_callbacks
):
    place = LocationFactory(submitter=user)
    first = uploaded_with_thumbnails(upload, location_id=str(place.id))
    second = uploaded_with_thumbnails(upload, location_id=str(place.id))

    with django_capture_on_commit_callbacks(execute=True):
        place.delete()

    assert not Image.objects.filter(id__in=[first.id, second.id]).exists()
    assert keys_of(first.id) == keys_of(second.id) == set()


def test_objects_stay_until_the_deletion_commits(upload, user_client):
    image = uploaded_with_thumbnails(upload)

    # No commit inside the test's transaction: the objects must still be there, since
    # a rollback would bring the row back.
    assert user_client.delete(f"/api/v1/images/{image.id}").status_code == 204
    assert len(keys_of(image.id)) == 3


def test_a_deletion_while_storage_is_down_is_finished_by_a_task(
    upload, user_client, settings, django_capture_on_commit_callbacks
):
    image = uploaded_with_thumbnails(upload)
    reachable = settings.AWS_S3_ENDPOINT_URL
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens
    settings.STORAGE_RETRY_WAIT_INITIAL = 0

    with django_capture_on_commit_callbacks(execute=True):
        response = user_client.delete(f"/api/v1/images/{image.id}")

    assert response.status_code == 204  # the row is gone; the objects are deferred
    assert any(
        str(image.id) in m["headers"]["argsrepr"] for m in queued_tasks(delete_image_objects.name)
    )
    settings.AWS_S3_ENDPOINT_URL = reachable  # storage is back
    assert len(keys_of(image.id)) == 3

    assert delete_image_objects.apply(args=(str(image.id),)).get() == 3
    assert keys_of(image.id) == set()


def test_others_cannot_see_or_delete_an_image(upload, other_client):
    image = uploaded_with_thumbnails(upload)

    assert other_client.get(f"/api/v1/images/{image.id}").status_code == 404
    assert other_client.delete(f"/api/v1/images/{image.id}").status_code == 404
    assert Image.objects.filter(id=image.id).exists()


def test_a_moderator_can_delete_anyones_image(
    upload, moderator_client, django_capture_on_commit_callbacks
):
    image = uploaded_with_thumbnails(upload)

    with django_capture_on_commit_callbacks(execute=True):
        assert moderator_client.delete(f"/api/v1/images/{image.id}").status_code == 204
    assert keys_of(image.id) == set()


def test_the_purge_deletes_old_unattached_uploads_and_keeps_the_rest(
    upload, user, django_capture_on_commit_callbacks
):
    place = LocationFactory(submitter=user)
    old_orphan = uploaded_with_thumbnails(upload)
    old_attached = uploaded_with_thumbnails(upload, location_id=str(place.id))
    fresh_orphan = uploaded_with_thumbnails(upload)
    long_ago = timezone.now() - timedelta(hours=django_settings.IMAGE_ORPHAN_MAX_AGE_HOURS + 1)
    Image.objects.filter(id__in=[old_orphan.id, old_attached.id]).update(created_at=long_ago)

    with django_capture_on_commit_callbacks(execute=True):
        summary = purge_orphan_images.apply().get()

    assert summary["rows_deleted"] == 1
    assert set(Image.objects.values_list("id", flat=True)) == {old_attached.id, fresh_orphan.id}
    assert keys_of(old_orphan.id) == set()
    assert len(keys_of(old_attached.id)) == len(keys_of(fresh_orphan.id)) == 3


def test_the_sweep_deletes_old_objects_that_have_no_row(upload, user):
    recorded = uploaded_with_thumbnails(upload, location_id=str(LocationFactory(submitter=user).id))
    stray_id = "0b8e1f5e-5a4c-4d3b-9a51-3d2f7f0c9e11"
    stray = constants.original_key(stray_id, "JPEG")
    storage.put_object(key=stray, body=samples.jpeg(10, 10), content_type="image/jpeg")
    time.sleep(1.1)  # LastModified has whole seconds: make both objects strictly older

    result = services.images_purge_orphans(older_than=timedelta(0))

    assert result.rows_deleted == 0  # the recorded image is attached to a place
    assert result.objects_deleted >= 1
    assert keys_of(stray_id) == set()
    assert len(keys_of(recorded.id)) == 3  # its row exists: left alone


def test_the_sweep_leaves_recent_objects_alone_even_without_a_row():
    stray_id = "5f0c2d8a-1b7e-4c1d-8f3a-6e9b0a4d2c77"
    storage.put_object(key=f"images/{stray_id}/original.jpg", body=b"x", content_type="image/jpeg")

    services.images_purge_orphans()  # 24 h: an upload in flight must survive

    assert keys_of(stray_id) == {f"images/{stray_id}/original.jpg"}
    storage.delete_objects([f"images/{stray_id}/original.jpg"])
