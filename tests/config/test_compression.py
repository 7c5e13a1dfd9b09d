"""Compression of API bodies (config/compression.py): gzip or Brotli for JSON, GeoJSON and
CSV of 1 kB and more, streamed exports included, only when the client accepts it."""

import asyncio
import gzip
import json

import brotli
import pytest
from django.http import HttpResponse, JsonResponse
from django.test import RequestFactory

from config import compression
from tests.locations.factories import LocationFactory

pytestmark = pytest.mark.django_db

VIEWPORT = "/api/v1/locations/viewport?bbox=-180,-85,180,85&limit=2000"
DECODE = {"gzip": gzip.decompress, "br": brotli.decompress}


@pytest.fixture
def many_places():
    return LocationFactory.create_batch(40, approved=True)


@pytest.mark.parametrize(
    ("accept_encoding", "coding"),
    [("gzip", "gzip"), ("gzip, deflate, br", "br"), ("br;q=0.5, gzip", "gzip"), ("*", "br")],
)
def test_a_large_viewport_is_compressed_as_the_client_prefers(
    client, many_places, accept_encoding, coding
):
    plain = client.get(VIEWPORT)
    compressed = client.get(VIEWPORT, HTTP_ACCEPT_ENCODING=accept_encoding)

    assert len(plain.content) > compression.MIN_LENGTH
    assert compressed["Content-Encoding"] == coding
    assert compressed["Content-Type"] == "application/geo+json"
    assert int(compressed["Content-Length"]) == len(compressed.content) < len(plain.content) / 3
    assert json.loads(DECODE[coding](compressed.content)) == plain.json()
    assert "Accept-Encoding" in compressed["Vary"]


def test_without_accept_encoding_the_body_is_plain_but_varies_by_it(client, many_places):
    response = client.get(VIEWPORT)

    assert "Content-Encoding" not in response
    assert response.json()["type"] == "FeatureCollection"
    assert "Accept-Encoding" in response["Vary"]


@pytest.mark.parametrize("accept_encoding", ["identity", "gzip;q=0, br;q=0", "deflate", "*;q=0"])
def test_a_client_refusing_both_codings_gets_the_plain_body(client, many_places, accept_encoding):
    response = client.get(VIEWPORT, HTTP_ACCEPT_ENCODING=accept_encoding)

    assert "Content-Encoding" not in response
    assert response.json()["type"] == "FeatureCollection"


def test_a_tiny_body_is_not_compressed(client):
    response = client.get(
        "/api/v1/locations/viewport?bbox=1,1,2,2", HTTP_ACCEPT_ENCODING="gzip, br"
    )

    assert len(response.content) < compression.MIN_LENGTH
    assert "Content-Encoding" not in response
    assert response.json()["features"] == []


@pytest.mark.parametrize("coding", ["gzip", "br"])
@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_the_streamed_export_is_compressed_chunk_by_chunk(
    client, many_places, settings, coding, fmt
):
    settings.EXPORT_CHUNK_SIZE = 100
    # Read before the next request: the end of a request closes the exports still open.
    expected = b"".join(client.get(f"/api/v1/locations/export?format={fmt}").streaming_content)
    response = client.get(f"/api/v1/locations/export?format={fmt}", HTTP_ACCEPT_ENCODING=coding)

    assert response.streaming
    assert response["Content-Encoding"] == coding
    assert "Content-Length" not in response
    body = DECODE[coding](b"".join(response.streaming_content))
    if fmt == "geojson":
        assert len(json.loads(body)["features"]) == 40
    else:
        assert body.decode().count("\n") == 41  # header + one row per place
    assert body == expected


def test_an_async_stream_is_compressed_too():
    async def chunks():
        for number in range(50):
            yield f"row {number}\n".encode()

    async def collect():
        return b"".join([part async for part in compression._acompressed_stream(chunks(), "gzip")])

    assert gzip.decompress(asyncio.run(collect())) == b"".join(
        f"row {n}\n".encode() for n in range(50)
    )


def big_json() -> dict:
    return {"items": ["x" * 40] * 100}


@pytest.mark.parametrize(
    ("path", "response", "compressed"),
    [
        ("/api/v1/categories", JsonResponse(big_json()), True),
        # BREACH: the token answer holds a secret beside what the client sent.
        ("/api/v1/auth/token", JsonResponse(big_json()), False),
        ("/api/v1/images/x", HttpResponse(b"\0" * 5000, content_type="image/webp"), False),
        ("/admin/", HttpResponse("<p>" * 2000, content_type="text/html"), False),
    ],
)
def test_what_is_compressed_by_path_and_type(path, response, compressed):
    request = RequestFactory().get(path, HTTP_ACCEPT_ENCODING="gzip")

    assert (compression.coding_for(request, response) == "gzip") is compressed


def test_an_already_encoded_body_is_left_alone():
    response = JsonResponse(big_json())
    response["Content-Encoding"] = "gzip"

    assert (
        compression.coding_for(
            RequestFactory().get("/api/v1/x", HTTP_ACCEPT_ENCODING="br"), response
        )
        is None
    )
