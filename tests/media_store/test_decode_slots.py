"""Decode slots: at most IMAGE_MAX_CONCURRENT_DECODES uploads decode at once per process;
one that finds no slot within IMAGE_DECODE_WAIT_SECONDS gets 503 with Retry-After."""

import threading
import time
from contextlib import ExitStack

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image as PILImage
from rest_framework.test import APIClient

from media_store import imaging, storage
from media_store.models import Image
from tests.media_store import samples
from tests.media_store.conftest import UPLOAD_URL


def assert_busy(response) -> None:
    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "1"  # ceil of the 0.2 s wait
    assert "retry later" in response.json()["detail"]


@pytest.mark.django_db
def test_it_answers_503_with_retry_after_when_every_decode_slot_stays_taken(
    upload, bucket_keys, settings
):
    settings.IMAGE_MAX_CONCURRENT_DECODES = 2
    settings.IMAGE_DECODE_WAIT_SECONDS = 0.2
    before = bucket_keys()
    with ExitStack() as held:
        held.enter_context(imaging.decode_slot())
        second = held.enter_context(ExitStack())
        second.enter_context(imaging.decode_slot())

        started = time.monotonic()
        busy = upload(samples.jpeg(800, 600))
        waited = time.monotonic() - started

        assert_busy(busy)
        assert waited >= 0.2  # it waited for a slot before giving up
        assert Image.objects.count() == 0
        assert bucket_keys() == before

        second.close()  # one slot free again: the next upload goes through
        assert upload(samples.jpeg(800, 600)).status_code == 201


@pytest.mark.django_db
def test_an_upload_waits_for_a_slot_freed_within_the_wait(upload, settings):
    settings.IMAGE_MAX_CONCURRENT_DECODES = 1
    settings.IMAGE_DECODE_WAIT_SECONDS = 10
    taken, release = threading.Event(), threading.Event()

    def hold_the_slot() -> None:
        with imaging.decode_slot():
            taken.set()
            release.wait(10)

    holder = threading.Thread(target=hold_the_slot)
    holder.start()
    taken.wait(5)
    threading.Timer(0.5, release.set).start()

    started = time.monotonic()
    response = upload(samples.jpeg(800, 600))

    holder.join()
    assert response.status_code == 201, response.content
    assert time.monotonic() - started >= 0.5


@pytest.mark.django_db(transaction=True)
def test_concurrent_worst_case_uploads_beyond_the_slots_get_503_and_the_others_succeed(
    user, settings
):
    # One slot and a wait far shorter than a worst-case decode (over a second here): of
    # two uploads arriving together, one decodes and the other is turned away.
    settings.IMAGE_MAX_CONCURRENT_DECODES = 1
    settings.IMAGE_DECODE_WAIT_SECONDS = 0.2
    data = samples.worst_case("png-rgba", settings.IMAGE_MAX_PIXELS)
    barrier = threading.Barrier(2)
    responses = []

    def post() -> None:
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        file = SimpleUploadedFile("worst.png", data, content_type="image/png")
        responses.append(client.post(UPLOAD_URL, {"file": file}, format="multipart"))

    threads = [threading.Thread(target=post) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(r.status_code for r in responses) == [201, 503]
    assert_busy(next(r for r in responses if r.status_code == 503))
    stored = next(r for r in responses if r.status_code == 201).json()
    assert Image.objects.count() == 1
    assert (stored["width"], stored["height"]) == (2048, 2048)


@pytest.mark.django_db
def test_the_worst_case_png_at_the_pixel_cap_uploads_and_is_resized(upload, settings):
    data = samples.worst_case("png-rgba", settings.IMAGE_MAX_PIXELS)

    response = upload(data, name="worst.png", content_type="image/png")

    assert response.status_code == 201, response.content
    body = response.json()
    assert (body["width"], body["height"]) == (2048, 2048)
    assert body["content_type"] == "image/png"
    image = Image.objects.get(id=body["id"])
    stored = PILImage.open(samples.BytesIO(storage.get_object_bytes(key=image.key)))
    assert stored.mode == "RGBA"
    # The flat part, alpha kept (premultiplying for the resize may round a colour by 1).
    flat = stored.getpixel((100, 100))
    assert flat[3] == 128
    assert all(abs(got - want) <= 1 for got, want in zip(flat, (30, 120, 200), strict=False))
    # The noise band (64 of 6324 rows, in the middle) survives as ~20 varied rows.
    band = stored.crop((0, 1024, 2048, 1034)).convert("L").getextrema()
    assert band[1] - band[0] > 50


@pytest.mark.django_db
def test_it_refuses_a_webp_over_a_sixth_of_the_pixel_cap(upload, settings):
    settings.IMAGE_MAX_PIXELS = 1_200_000  # WebP limit: 200,000 pixels
    png, webp = samples.BytesIO(), samples.BytesIO()
    samples.halves(500, 500).save(png, "PNG")
    samples.halves(500, 500).save(webp, "WEBP")

    refused = upload(webp.getvalue(), name="big.webp", content_type="image/webp")

    assert refused.status_code == 400
    assert "the limit for WebP is 200,000 pixels" in refused.json()["errors"]["file"][0]
    assert upload(png.getvalue(), name="big.png", content_type="image/png").status_code == 201
