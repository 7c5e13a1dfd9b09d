"""Every GeoJSON answer is `application/geo+json` and is served for `Accept:
application/geo+json`, `application/json` and `*/*` (config/renderers.py); errors stay
problem+json."""

import pytest
from rest_framework.authtoken.models import Token

from tests.locations.factories import LocationFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

API = "/api/v1"
ACCEPTS = [
    "application/geo+json",
    "application/json",
    "*/*",
    "application/json; q=0.9, application/geo+json",
    "text/html, application/xhtml+xml, */*;q=0.8",  # a browser
]


@pytest.fixture
def token(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


@pytest.fixture
def reads(user) -> list[str]:
    place = LocationFactory(approved=True, submitter=user)
    lon, lat = place.point.x, place.point.y
    return [
        f"{API}/locations/search?lat={lat}&lon={lon}",
        f"{API}/locations/viewport?bbox={lon - 1},{lat - 1},{lon + 1},{lat + 1}",
        f"{API}/locations/{place.pk}",
        f"{API}/me/locations",
        f"{API}/locations/export?format=geojson",
    ]


@pytest.mark.parametrize("accept", ACCEPTS)
def test_every_geojson_read_answers_geo_json(client, reads, token, accept):
    for path in reads:
        response = client.get(path, HTTP_ACCEPT=accept, **token)
        assert response.status_code == 200, path
        assert response["Content-Type"] == "application/geo+json", path
        body = b"".join(response.streaming_content) if response.streaming else response.content
        assert body.lstrip().startswith(b'{"type"'), path


@pytest.mark.parametrize("accept", ACCEPTS[:3])
def test_submitting_a_place_answers_geo_json(client, token, accept):
    response = client.post(
        f"{API}/locations",
        {
            "name": "Corner bakery",
            "description": "",
            "category": "shop",
            "latitude": 52.52,
            "longitude": 13.40,
        },
        content_type="application/json",
        HTTP_ACCEPT=accept,
        **token,
    )

    assert response.status_code == 201
    assert response["Content-Type"] == "application/geo+json"
    assert response.json()["type"] == "Feature"


def test_an_unsupported_accept_is_a_406_problem(client, reads):
    for path in reads[:3]:
        assert_problem(client.get(path, HTTP_ACCEPT="text/csv"), 406)


def test_errors_stay_problem_json_when_geo_json_is_asked_for(client):
    response = client.get(
        f"{API}/locations/search?lat=200&lon=0", HTTP_ACCEPT="application/geo+json"
    )

    assert_problem(response, 400, field="lat")
