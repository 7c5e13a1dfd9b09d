"""Presigned photo URLs are signed at the start of a window (STORAGE_URL_WINDOW_SECONDS):
one photo keeps one URL for the window, in every process, so browsers and CDNs can cache
it and a place's JSON (and ETag) does not change every second."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import boto3
import botocore.auth
import pytest
import requests
from botocore.config import Config
from django.core.files.base import ContentFile

from media_store.storage import image_storage, presigned_get_url

pytestmark = pytest.mark.django_db

KEY = "images/0b8f3c3e-6d0e-4a57-9d9a-1f0c2a6f1a11/thumb-256.jpg"


@pytest.fixture
def clock(monkeypatch):
    """Sets botocore's signing clock (naive UTC, as botocore's own)."""

    def at(moment: datetime) -> None:
        monkeypatch.setattr(
            botocore.auth, "get_current_datetime", lambda **_: moment.replace(tzinfo=None)
        )

    return at


def _query(url: str) -> dict[str, str]:
    return {name: values[0] for name, values in parse_qs(urlsplit(url).query).items()}


def test_one_window_gives_one_url(clock, settings):
    settings.STORAGE_URL_WINDOW_SECONDS = 300
    clock(datetime(2026, 12, 7, 10, 0, 1, tzinfo=UTC))
    first = image_storage().url(KEY)
    clock(datetime(2026, 12, 7, 10, 4, 59, tzinfo=UTC))
    assert image_storage().url(KEY) == first
    assert presigned_get_url(key=KEY) == first  # the storage API and the helper agree

    clock(datetime(2026, 12, 7, 10, 5, 0, tzinfo=UTC))
    later = image_storage().url(KEY)
    assert later != first
    assert _query(first)["X-Amz-Date"] == "20261207T100000Z"
    assert _query(later)["X-Amz-Date"] == "20261207T100500Z"


def test_a_url_lives_the_expiry_from_any_moment_of_its_window(clock, settings):
    settings.STORAGE_URL_WINDOW_SECONDS = 300
    settings.AWS_QUERYSTRING_EXPIRE = 3600
    now = datetime(2026, 12, 7, 10, 4, 59, tzinfo=UTC)
    clock(now)
    query = _query(image_storage().url(KEY))
    signed = datetime.strptime(query["X-Amz-Date"], "%Y%m%dT%H%M%SZ").replace(tzinfo=UTC)
    assert query["X-Amz-Expires"] == "3900"
    assert signed + timedelta(seconds=int(query["X-Amz-Expires"])) >= now + timedelta(hours=1)


def test_the_signature_is_botocores_own_at_the_windows_start(clock, settings):
    # The stock signer, its clock at the window's start, with the same lifetime: the
    # same URL to the byte, so any SigV4 server (MinIO, S3) accepts ours.
    settings.STORAGE_URL_WINDOW_SECONDS = 300
    clock(datetime(2026, 12, 7, 10, 2, 30, tzinfo=UTC))
    ours = image_storage().url(KEY)

    clock(datetime(2026, 12, 7, 10, 0, 0, tzinfo=UTC))
    stock = boto3.client(
        "s3",
        endpoint_url=settings.STORAGE_PUBLIC_ENDPOINT_URL or settings.AWS_S3_ENDPOINT_URL,
        region_name=settings.AWS_S3_REGION_NAME,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
    )
    expected = stock.generate_presigned_url(
        "get_object",
        Params={
            "Bucket": settings.AWS_STORAGE_BUCKET_NAME,
            "Key": KEY,
            "ResponseCacheControl": f"private, max-age={settings.AWS_QUERYSTRING_EXPIRE + 300}",
        },
        ExpiresIn=settings.AWS_QUERYSTRING_EXPIRE + 300,
    )
    assert ours == expected


def test_a_zero_window_signs_at_the_current_second(clock, settings):
    settings.STORAGE_URL_WINDOW_SECONDS = 0
    clock(datetime(2026, 12, 7, 10, 2, 30, tzinfo=UTC))
    query = _query(image_storage().url(KEY))
    assert query["X-Amz-Date"] == "20261207T100230Z"
    assert query["X-Amz-Expires"] == str(settings.AWS_QUERYSTRING_EXPIRE)


def test_a_place_with_photos_keeps_its_etag_within_a_window(clock, settings, api_client, user):
    from tests.locations.conftest import API
    from tests.locations.factories import LocationFactory
    from tests.media_store.factories import ImageFactory

    settings.STORAGE_URL_WINDOW_SECONDS = 300
    place = LocationFactory(submitter=user, approved=True)
    ImageFactory(location=place, uploader=user)

    clock(datetime(2026, 12, 7, 10, 0, 10, tzinfo=UTC))
    first = api_client.get(f"{API}/locations/{place.id}")
    clock(datetime(2026, 12, 7, 10, 3, 20, tzinfo=UTC))
    again = api_client.get(f"{API}/locations/{place.id}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304

    clock(datetime(2026, 12, 7, 10, 5, 0, tzinfo=UTC))  # the next window: new URLs
    later = api_client.get(f"{API}/locations/{place.id}", HTTP_IF_NONE_MATCH=first["ETag"])
    assert later.status_code == 200
    assert later["ETag"] != first["ETag"]


def test_a_photo_is_served_for_browsers_to_keep_as_long_as_its_url_lives(settings):
    # Over HTTP from the S3 endpoint: private (no CDN or proxy keeps a deleted photo),
    # fresh for the URL's lifetime (expiry + window).
    settings.STORAGE_URL_WINDOW_SECONDS = 300
    settings.AWS_QUERYSTRING_EXPIRE = 3600
    storage = image_storage()
    name = storage.save("images/cache-control-probe.txt", ContentFile(b"a photo"))
    try:
        answer = requests.get(storage.url(name), timeout=10)
    finally:
        storage.delete(name)
    assert answer.status_code == 200
    assert answer.content == b"a photo"
    assert answer.headers["Cache-Control"] == "private, max-age=3900"
