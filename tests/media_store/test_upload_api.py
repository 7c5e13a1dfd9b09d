import hashlib
import urllib.request
from io import BytesIO

import pytest
from PIL import Image as PILImage

from media_store import storage
from media_store.models import Image, ImageStatus
from tests.locations.factories import LocationFactory
from tests.media_store import samples

pytestmark = pytest.mark.django_db


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 (our test S3)
        return response.read()


def stored_bytes(image: Image) -> bytes:
    return storage.get_object_bytes(key=image.key)


def test_a_sideways_jpeg_comes_back_upright_without_gps_or_exif(upload):
    response = upload(samples.jpeg_with_gps_and_orientation_6(400, 200), name="IMG_0001.JPG")

    assert response.status_code == 201, response.json()
    body = response.json()
    image = Image.objects.get(id=body["id"])
    data = stored_bytes(image)
    stored = PILImage.open(BytesIO(data))
    # Orientation 6 = rotate 90 degrees clockwise: the 400x200 original stands up, and
    # its left (red) half is now on top.
    assert stored.format == "JPEG"
    assert stored.size == (200, 400) == (body["width"], body["height"])
    top, bottom = stored.getpixel((100, 50)), stored.getpixel((100, 350))
    assert top[0] > 180 and top[2] < 60, top
    assert bottom[2] > 180 and bottom[0] < 60, bottom
    # No EXIF at all (so no GPS, no maker, no orientation left to apply twice), no XMP,
    # no comment; the colour profile is kept.
    assert "exif" not in stored.info
    assert not stored.getexif()
    assert "xmp" not in stored.info
    assert "comment" not in stored.info
    assert b"SecretCam" not in data and b"home address" not in data
    assert stored.info.get("icc_profile") == samples.srgb_icc_profile()


def test_it_records_key_sizes_and_sha256_of_what_it_stored(upload, user):
    response = upload(samples.jpeg_with_gps_and_orientation_6(), name="../../etc/passwd.jpg")

    body = response.json()
    image = Image.objects.get(id=body["id"])
    data = stored_bytes(image)
    assert image.key == f"images/{image.id}/original.jpg"  # never the client's name
    assert image.uploader == user
    assert image.status == ImageStatus.PROCESSING == body["status"]
    assert image.size_bytes == len(data) == body["size_bytes"]
    assert image.sha256 == hashlib.sha256(data).hexdigest() == body["sha256"]
    assert image.content_type == "image/jpeg" == body["content_type"]
    assert body["location_id"] is None
    assert body["thumbnail_url"] is None  # the worker has not made them yet


def test_the_presigned_url_fetches_the_stored_image(upload):
    response = upload(samples.webp())

    body = response.json()
    url = body["url"]
    assert "X-Amz-Signature=" in url and "X-Amz-Algorithm=AWS4-HMAC-SHA256" in url
    image = Image.objects.get(id=body["id"])
    assert fetch(url) == stored_bytes(image)


def test_a_png_keeps_its_transparency(upload):
    response = upload(samples.png_with_alpha(120, 80), name="logo.png", content_type="image/png")

    assert response.status_code == 201, response.json()
    image = Image.objects.get(id=response.json()["id"])
    stored = PILImage.open(BytesIO(stored_bytes(image)))
    assert image.key.endswith("/original.png")
    assert image.content_type == "image/png"
    assert stored.format == "PNG" and stored.mode == "RGBA"
    assert stored.getpixel((10, 40))[3] == 0  # transparent half
    assert stored.getpixel((100, 40)) == (*samples.BLUE, 255)


def test_a_webp_is_stored_as_webp(upload):
    response = upload(samples.webp(160, 90), name="x.webp", content_type="image/webp")

    assert response.status_code == 201, response.json()
    image = Image.objects.get(id=response.json()["id"])
    stored = PILImage.open(BytesIO(stored_bytes(image)))
    assert stored.format == "WEBP" and stored.size == (160, 90)
    assert image.key.endswith("/original.webp") and image.content_type == "image/webp"


def test_the_type_comes_from_the_bytes_not_the_name_or_header(upload):
    response = upload(samples.png_with_alpha(), name="holiday.jpg", content_type="image/jpeg")

    assert response.status_code == 201
    assert response.json()["content_type"] == "image/png"


def test_a_large_photo_is_downscaled_to_the_maximum_side(upload, settings):
    settings.IMAGE_MAX_SIDE = 1000
    response = upload(samples.jpeg(3000, 1500))

    body = response.json()
    assert (body["width"], body["height"]) == (1000, 500)
    image = Image.objects.get(id=body["id"])
    assert PILImage.open(BytesIO(stored_bytes(image))).size == (1000, 500)


def test_it_attaches_the_upload_to_the_callers_own_place(upload, user):
    place = LocationFactory(submitter=user)

    response = upload(samples.webp(), location_id=str(place.id))

    assert response.status_code == 201, response.json()
    assert response.json()["location_id"] == str(place.id)
    assert Image.objects.get(id=response.json()["id"]).location_id == place.id


def test_anonymous_uploads_are_refused(api_client, bucket_keys):
    before = bucket_keys()
    response = api_client.post(
        "/api/v1/images/upload", {"file": BytesIO(samples.webp())}, format="multipart"
    )
    assert response.status_code == 401
    assert Image.objects.count() == 0
    assert bucket_keys() == before


def test_a_failed_database_write_removes_the_object_already_stored(upload, bucket_keys):
    from django.db import connection

    before = bucket_keys()
    # A real failure of the INSERT, after the object was put (rolled back with the test).
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION pg_temp.refuse() RETURNS trigger LANGUAGE plpgsql AS "
            "$$ BEGIN RAISE EXCEPTION 'disk full'; END $$;"
            "CREATE TRIGGER refuse_images BEFORE INSERT ON media_store_image "
            "FOR EACH ROW EXECUTE FUNCTION pg_temp.refuse();"
        )

    response = upload(samples.webp())

    assert response.status_code == 500
    assert bucket_keys() == before
