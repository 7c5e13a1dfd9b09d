"""The photos' Django storage (PlacemapS3Storage, django-storages' S3Storage) against the
real S3 endpoint over HTTP: the storage API, the model's file field, and the guards it
keeps (breaker, presigning on the public host, live settings)."""

import time
import urllib.request
import uuid
from urllib.parse import urlsplit

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import storages
from storages.backends.s3 import S3Storage

from media_store import storage
from media_store.models import Image
from media_store.storage import ImageContent, PlacemapS3Storage, image_storage
from tests.media_store import samples
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


def _key() -> str:
    return f"images/{uuid.uuid4()}/original.jpg"


def test_it_is_django_storages_s3_storage():
    assert isinstance(image_storage(), PlacemapS3Storage)
    assert isinstance(image_storage(), S3Storage)
    assert image_storage() is image_storage()  # one per process
    assert isinstance(Image._meta.get_field("key").storage, PlacemapS3Storage)


def test_save_open_size_exists_and_delete_go_to_the_bucket():
    body = samples.jpeg(40, 30)
    key = image_storage().save(_key(), ImageContent(body, content_type="image/jpeg"))

    assert storage.get_object_bytes(key=key) == body  # really in the bucket
    assert image_storage().open(key).read() == body
    assert image_storage().size(key) == len(body)
    assert image_storage().exists(key)

    image_storage().delete(key)
    assert not image_storage().exists(key)


def test_a_saved_object_keeps_its_content_type_and_cache_header():
    key = image_storage().save(_key(), ImageContent(b"png bytes", content_type="image/png"))

    head = storage.s3_client().head_object(Bucket=storage.bucket_name(), Key=key)
    assert head["ContentType"] == "image/png"
    assert head["CacheControl"] == "private, max-age=31536000, immutable"


def test_a_plain_content_file_gets_the_type_of_its_name():
    key = image_storage().save(f"images/{uuid.uuid4()}/thumb-256.webp", ContentFile(b"x"))

    head = storage.s3_client().head_object(Bucket=storage.bucket_name(), Key=key)
    assert head["ContentType"] == "image/webp"


def test_opening_a_missing_object_is_a_file_not_found():
    with pytest.raises(FileNotFoundError):
        image_storage().open(_key())


def test_the_model_field_reads_its_object_through_the_storage(user):
    body = samples.jpeg(20, 20)
    image = ImageFactory(uploader=user)
    storage.put_object(key=image.key.name, body=body, content_type="image/jpeg")

    fresh = Image.objects.get(id=image.id)
    assert fresh.key == f"images/{image.id}/original.jpg"  # compares as its key
    with fresh.key.open("rb") as stored:
        assert stored.read() == body


def test_urls_are_signed_for_the_public_endpoint(settings, user):
    settings.STORAGE_PUBLIC_ENDPOINT_URL = "https://photos.example.test"
    image = ImageFactory(uploader=user)

    url = image.key.url  # the same storage instance, reading the changed setting
    parts = urlsplit(url)
    assert (parts.scheme, parts.netloc) == ("https", "photos.example.test")
    assert parts.path == f"/{settings.AWS_STORAGE_BUCKET_NAME}/{image.key.name}"
    assert "X-Amz-Signature=" in parts.query


def test_a_presigned_url_fetches_the_stored_bytes():
    body = samples.jpeg(16, 16)
    key = image_storage().save(_key(), ImageContent(body, content_type="image/jpeg"))

    # An http:// URL we built ourselves (S310 guards against file: and others).
    with urllib.request.urlopen(image_storage().url(key), timeout=5) as response:  # noqa: S310
        assert response.read() == body


def test_urls_are_made_while_the_breaker_is_open():
    storage.breaker().open()
    assert image_storage().url(_key()).startswith("http")


def test_save_and_open_fail_at_once_while_the_breaker_is_open():
    key = image_storage().save(_key(), ImageContent(b"x", content_type="image/jpeg"))
    storage.breaker().open()

    started = time.perf_counter()
    with pytest.raises(storage.StorageUnavailable):
        image_storage().save(_key(), ImageContent(b"y", content_type="image/jpeg"))
    with pytest.raises(storage.StorageUnavailable):
        image_storage().open(key)
    assert time.perf_counter() - started < 0.5


def test_a_dead_endpoint_is_storage_unavailable_within_the_deadline(settings):
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there
    settings.STORAGE_RETRY_ATTEMPTS = 2
    settings.STORAGE_RETRY_WAIT_MAX = 0.1

    started = time.perf_counter()
    with pytest.raises(storage.StorageUnavailable) as caught:
        image_storage().save(_key(), ImageContent(b"x", content_type="image/jpeg"))
    assert time.perf_counter() - started < settings.STORAGE_REQUEST_DEADLINE
    assert storage.breaker_state()["failures"] == 1  # counted once, retries included
    assert caught.value.status == 503 and caught.value.retry_after >= 1


def test_the_storage_api_is_the_one_configured_in_storages_when_an_alias_exists(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "images": {"BACKEND": "media_store.storage.PlacemapS3Storage"},
    }
    assert image_storage() is storages["images"]
