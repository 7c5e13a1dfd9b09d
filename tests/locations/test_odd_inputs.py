"""Odd inputs get a 4xx problem or a normal answer, never a 5xx."""

import pytest

from tests.locations.conftest import API

pytestmark = pytest.mark.django_db

ODD_QUERIES = [
    "locations/search?lat=1e309&lon=0",
    "locations/search?lat=-0&lon=-0",
    "locations/search?lat=&lon=",
    "locations/search?lat=0&lon=0&limit=",
    "locations/search?lat=0&lon=0&radius=1.5",
    "locations/search?lat=0&lon=0&radius=1e3",
    "locations/search?lat=0&lon=0&q=%00",
    "locations/search?lat=0&lon=0&q=%27%3B+DROP+TABLE+locations_location%3B--",
    "locations/search?lat=0&lon=0&q=%21%21%21+%26%26+%7C%7C+%28%29+%3A*",
    "locations/search?lat=0&lon=0&q=" + "word+" * 39,
    "locations/search?q=%22unclosed+phrase",
    "locations/search?lat=0&lon=0&category=",
    "locations/search?lat=0&lon=0&category=,,,",
    "locations/search?lat=0&lon=0&category=" + ",".join(["park"] * 50),
    "locations/search?lat=0&lon=0&offset=10000",
    "locations/search?lat=%D9%A1%D9%A2&lon=0",  # Arabic-Indic digits
    "locations/viewport?bbox=%20-180%20,%20-90%20,%20180%20,%2090%20",
    "locations/viewport?bbox=-180,-90,180,90&limit=1&zoom=0",
    "locations/viewport?bbox=180,-90,-180,90&limit=1",
    "locations/viewport?bbox=1,2,3,4&bbox=5,6,7,8",
    "locations/viewport?bbox=" + "1," * 1000,
    "locations/viewport?bbox=0x10,0,1,1",
    "locations/viewport?bbox=-180,-90,180,90&zoom=22&limit=2000",
    "locations/viewport?bbox=0,0,1e-12,1e-12",
    "locations/viewport?bbox=0,0,1,1&q=%00",
]


@pytest.mark.parametrize("path", ODD_QUERIES)
def test_odd_public_queries_never_fail_with_a_5xx(api_client, user, place_of, path):
    place_of(user, lon=0.0001, lat=0.0001, name="Null island kiosk")

    response = api_client.get(f"{API}/{path}")

    assert response.status_code in (200, 400), (path, response.content[:300])
    if response.status_code == 400:
        assert response["Content-Type"] == "application/problem+json"
        assert response.json()["errors"]


@pytest.mark.parametrize(
    "body",
    [
        [],
        "just a string",
        {"name": None, "category": None, "latitude": None, "longitude": None},
        {"name": {"nested": 1}, "category": ["park"], "latitude": [1], "longitude": {}},
        {"name": "Nul\x00byte", "category": "park", "latitude": 1, "longitude": 1},
        {
            "name": "Fine name",
            "category": "park",
            "latitude": 1,
            "longitude": 1,
            "image_ids": [None],
        },
        {"name": "Fine name", "category": "park", "latitude": "1e309", "longitude": 1},
    ],
)
def test_odd_submissions_never_fail_with_a_5xx(user_client, body):
    response = user_client.post(f"{API}/locations", body, format="json")

    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
