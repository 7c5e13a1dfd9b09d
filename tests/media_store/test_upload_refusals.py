"""Hostile and broken uploads: each a 4xx problem+json naming the field, nothing stored."""

import pytest

from media_store.models import Image
from tests.locations.factories import LocationFactory
from tests.media_store import samples
from tests.media_store.conftest import UPLOAD_URL
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

SIX_MB = 6 * 1024 * 1024


@pytest.fixture
def nothing_stored(bucket_keys):
    """Asserts, after the test, that no row and no object were added."""
    before = bucket_keys()
    yield
    assert Image.objects.count() == 0
    assert bucket_keys() == before


@pytest.mark.parametrize(
    ("data", "name", "content_type"),
    [
        pytest.param(samples.TEXT, "photo.jpg", "image/jpeg", id="text-named-jpg"),
        pytest.param(samples.SVG_WITH_SCRIPT, "x.svg", "image/svg+xml", id="svg-with-script"),
        pytest.param(samples.PDF, "scan.pdf", "application/pdf", id="pdf"),
        pytest.param(samples.gif(), "anim.gif", "image/gif", id="gif"),
        pytest.param(samples.zip_archive(), "photos.jpg", "image/jpeg", id="zip"),
    ],
)
def test_it_refuses_files_that_are_not_jpeg_png_or_webp_with_415(
    upload, nothing_stored, data, name, content_type
):
    response = upload(data, name=name, content_type=content_type)

    body = assert_problem(response, 415, field="file")
    assert "JPEG, PNG and WebP" in body["errors"]["file"][0]


def test_it_refuses_a_truncated_jpeg_with_400(upload, nothing_stored):
    response = upload(samples.truncated_jpeg())

    body = assert_problem(response, 400, field="file")
    assert "not a readable JPEG" in body["errors"]["file"][0]


def test_it_refuses_a_png_declaring_30000_by_30000_pixels_before_decoding(upload, nothing_stored):
    data = samples.png_declaring(30000, 30000)
    assert len(data) < 1000  # tiny on the wire, 2.7 GB once decoded

    body = assert_problem(upload(data, name="x.png"), 400, field="file")
    assert "too many pixels" in body["errors"]["file"][0]


def test_it_refuses_images_over_the_pixel_setting_from_their_header(
    upload, nothing_stored, settings
):
    # Below Pillow's own bomb threshold: only Placemap's cap stops it.
    settings.IMAGE_MAX_PIXELS = 20_000_000
    body = assert_problem(
        upload(samples.png_declaring(5000, 5000), name="x.png"), 400, field="file"
    )
    assert "(5000x5000)" in body["errors"]["file"][0]


def test_it_refuses_a_6_mb_upload_with_413_without_reading_its_body(upload, nothing_stored):
    response = upload(b"\xff\xd8\xff" + b"\0" * (SIX_MB - 3))

    assert_problem(response, 413, field="file")
    body_stream = response.wsgi_request.environ["wsgi.input"]
    assert len(body_stream) > SIX_MB  # unread bytes: the server never consumed the body


def test_it_stops_reading_a_file_part_once_it_passes_the_limit(upload, nothing_stored, settings):
    # The body's declared length fits the limit plus multipart framing; the file alone
    # does not. The handler stops at the limit instead of buffering the rest.
    settings.IMAGE_UPLOAD_MAX_BYTES = 50_000
    response = upload(samples.TEXT * 1400)  # ~64 KB

    assert_problem(response, 413, field="file")


def test_it_refuses_an_empty_file(upload, nothing_stored):
    assert_problem(upload(b""), 400, field="file")


def test_it_refuses_a_request_without_a_file_field(user_client, nothing_stored):
    response = user_client.post(UPLOAD_URL, {"location_id": ""}, format="multipart")

    body = assert_problem(response, 400, field="file")
    assert body["errors"]["file"] == ["No file was submitted."]


def test_it_refuses_a_json_body_with_415(user_client, nothing_stored):
    response = user_client.post(UPLOAD_URL, {"file": "aGVsbG8="}, format="json")

    assert response.status_code == 415
    assert response["Content-Type"] == "application/problem+json"


def test_it_refuses_a_location_id_of_someone_elses_place(upload, other_user, nothing_stored):
    place = LocationFactory(submitter=other_user, approved=True)

    body = assert_problem(
        upload(samples.webp(), location_id=str(place.id)), 400, field="location_id"
    )
    assert body["errors"]["location_id"] == ["No place of yours has this id."]


def test_an_unknown_location_id_reads_the_same_as_someone_elses(upload, nothing_stored):
    response = upload(samples.webp(), location_id="00000000-0000-4000-8000-000000000000")

    body = assert_problem(response, 400, field="location_id")
    assert body["errors"]["location_id"] == ["No place of yours has this id."]


def test_it_refuses_a_location_id_that_is_not_a_uuid(upload, nothing_stored):
    assert_problem(upload(samples.webp(), location_id="../../1"), 400, field="location_id")


def test_only_the_file_field_is_read_and_only_once(user_client, bucket_keys):
    from django.core.files.uploadedfile import SimpleUploadedFile

    before = bucket_keys()
    payload = {
        "file": [
            SimpleUploadedFile("a.webp", samples.webp(160, 90)),
            SimpleUploadedFile("b.webp", samples.webp(40, 30)),
        ],
        "avatar": SimpleUploadedFile("c.pdf", samples.PDF),
    }

    response = user_client.post(UPLOAD_URL, payload, format="multipart")

    assert response.status_code == 201, response.json()
    assert (response.json()["width"], response.json()["height"]) == (160, 90)
    assert len(bucket_keys() - before) == 1
