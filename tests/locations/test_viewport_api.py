"""GET /locations/viewport: bbox, antimeridian, clustering that never cuts silently."""

import math

import pytest

from locations.selectors import Viewport, cluster_cell_size
from tests.locations.conftest import API

pytestmark = pytest.mark.django_db

BERLIN = "13.0,52.3,13.8,52.7"


def viewport(client, **params):
    return client.get(f"{API}/locations/viewport", params)


def test_it_returns_the_approved_places_inside_the_bbox(api_client, user, place_of):
    inside = place_of(user, lon=13.40, lat=52.52, name="Inside", category="museum")
    place_of(user, "pending", lon=13.41, lat=52.52)
    place_of(user, "rejected", lon=13.42, lat=52.52)
    place_of(user, lon=2.35, lat=48.85, name="Paris")

    response = viewport(api_client, bbox=BERLIN)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["clustered"] is False
    assert body["total"] == 1
    (feature,) = body["features"]
    assert feature["id"] == str(inside.id)
    assert feature["geometry"] == {"type": "Point", "coordinates": [13.4, 52.52]}
    assert feature["properties"]["name"] == "Inside"
    assert feature["properties"]["category"] == "museum"


def test_a_bbox_crossing_the_antimeridian_finds_places_on_both_sides(api_client, user, place_of):
    east = place_of(user, lon=179.5, lat=-17.0, name="Fiji east")
    west = place_of(user, lon=-179.5, lat=-17.0, name="Fiji west")
    place_of(user, lon=0.0, lat=-17.0, name="Atlantic")
    place_of(user, lon=178.0, lat=-17.0, name="Just outside")

    body = viewport(api_client, bbox="179,-18,-179,-16").json()

    assert {f["id"] for f in body["features"]} == {str(east.id), str(west.id)}
    assert body["total"] == 2


def test_an_antimeridian_viewport_clusters_both_sides_and_counts_them_all(
    api_client, user, place_of
):
    for index in range(4):
        place_of(user, lon=179.1 + index * 0.2, lat=-17.0)
        place_of(user, lon=-179.9 + index * 0.2, lat=-17.0)

    body = viewport(api_client, bbox="179,-18,-179,-16", limit=3).json()

    assert body["clustered"] is True
    assert body["total"] == 8
    assert sum(f["properties"]["count"] for f in body["features"]) == 8
    longitudes = [f["geometry"]["coordinates"][0] for f in body["features"]]
    assert any(lon > 179 for lon in longitudes)
    assert any(lon < -179 for lon in longitudes)


def test_exactly_limit_places_come_back_as_places(api_client, user, place_of):
    for index in range(5):
        place_of(user, lon=13.1 + index * 0.1, lat=52.5)

    body = viewport(api_client, bbox=BERLIN, limit=5).json()

    assert body["clustered"] is False
    assert len(body["features"]) == 5


def test_more_places_than_limit_become_clusters_whose_counts_add_up(api_client, user, place_of):
    # Two dense spots and a scatter: 23 inside, 2 outside.
    for index in range(10):
        place_of(user, lon=13.40 + index * 0.0001, lat=52.52)
    for index in range(8):
        place_of(user, lon=13.10 + index * 0.0001, lat=52.35)
    for index in range(5):
        place_of(user, lon=13.2 + index * 0.1, lat=52.65)
    place_of(user, lon=14.5, lat=52.5)
    place_of(user, lon=13.5, lat=53.5)

    body = viewport(api_client, bbox=BERLIN, limit=5, zoom=11).json()

    assert body["clustered"] is True
    assert body["total"] == 23
    clusters = body["features"]
    assert sum(c["properties"]["count"] for c in clusters) == 23
    assert 1 <= len(clusters) <= 5
    for cluster in clusters:
        props = cluster["properties"]
        assert props["cluster"] is True
        lon, lat = cluster["geometry"]["coordinates"]
        min_lon, min_lat, max_lon, max_lat = props["bbox"]
        assert min_lon - 1e-6 <= lon <= max_lon + 1e-6
        assert min_lat - 1e-6 <= lat <= max_lat + 1e-6
        assert min_lon >= 13.0 and max_lon <= 13.8
    assert max(c["properties"]["count"] for c in clusters) >= 10  # the dense spot held


def test_filters_apply_to_places_and_to_clusters(api_client, user, place_of):
    for index in range(6):
        place_of(user, lon=13.1 + index * 0.1, lat=52.5, name=f"Museum {index}", category="museum")
    for index in range(4):
        place_of(user, lon=13.1 + index * 0.1, lat=52.6, name=f"Cafe {index}", category="cafe")

    places = viewport(api_client, bbox=BERLIN, category="cafe").json()
    assert places["clustered"] is False
    assert {f["properties"]["category"] for f in places["features"]} == {"cafe"}
    assert places["total"] == 4

    clusters = viewport(api_client, bbox=BERLIN, category="museum", limit=3).json()
    assert clusters["clustered"] is True
    assert clusters["total"] == 6

    texts = viewport(api_client, bbox=BERLIN, q="cafe", limit=3).json()
    assert texts["clustered"] is True
    assert texts["total"] == 4


def test_viewport_is_one_statement(api_client, user, place_of, django_assert_num_queries):
    for index in range(3):
        place_of(user, lon=13.1 + index * 0.1, lat=52.5)

    with django_assert_num_queries(1) as captured:  # the timeout and the query, one message
        body = viewport(api_client, bbox=BERLIN, limit=2).json()
    assert body["clustered"] is True
    assert captured.captured_queries[0]["sql"].startswith("SET LOCAL statement_timeout")


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({}, "bbox"),
        ({"bbox": "1,2,3"}, "bbox"),
        ({"bbox": "1,2,3,4,5"}, "bbox"),
        ({"bbox": "a,b,c,d"}, "bbox"),
        ({"bbox": "NaN,0,1,1"}, "bbox"),
        ({"bbox": "0,0,inf,1"}, "bbox"),
        ({"bbox": "0,10,1,5"}, "bbox"),  # minLat > maxLat
        ({"bbox": "0,5,1,5"}, "bbox"),
        ({"bbox": "0,-91,1,1"}, "bbox"),
        ({"bbox": "0,0,1,90.5"}, "bbox"),
        ({"bbox": "-181,0,1,1"}, "bbox"),
        ({"bbox": "0,0,0,1"}, "bbox"),
        ({"bbox": BERLIN, "zoom": 30}, "zoom"),
        ({"bbox": BERLIN, "zoom": -1}, "zoom"),
        ({"bbox": BERLIN, "limit": 0}, "limit"),
        ({"bbox": BERLIN, "limit": 10**6}, "limit"),
        ({"bbox": BERLIN, "q": "x" * 10_000}, "q"),
        ({"bbox": BERLIN, "category": "nightclub"}, "category"),
    ],
)
def test_it_rejects_bad_viewport_parameters_naming_the_field(api_client, params, field):
    response = viewport(api_client, **params)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]


@pytest.mark.parametrize("limit", [1, 3, 50, 500, 2000])
@pytest.mark.parametrize(
    "bbox", [(-180, -90, 180, 90), (13.0, 52.3, 13.8, 52.7), (170, -10, -170, 10), (0, 0, 1e-6, 1)]
)
@pytest.mark.parametrize("zoom", [None, 0, 12, 22])
def test_the_grid_never_has_more_cells_than_limit_inside_the_viewport(bbox, limit, zoom):
    view = Viewport(*bbox)
    cell = cluster_cell_size(viewport=view, zoom=zoom, limit=limit)

    touched = 0
    for x1, y1, x2, y2 in view.envelopes:
        # The SQL groups by floor(coordinate / cell).
        columns = math.floor(x2 / cell) - math.floor(x1 / cell) + 1
        rows = math.floor(y2 / cell) - math.floor(y1 / cell) + 1
        touched += columns * rows
    assert touched <= max(limit, 4 * len(view.envelopes))


@pytest.mark.parametrize("who", ["api_client", "user_client", "other_client", "moderator_client"])
def test_viewport_shows_approved_places_only_to_everybody(request, who, user, place_of):
    approved = place_of(user, lon=13.4, lat=52.5)
    place_of(user, "pending", lon=13.4, lat=52.5)
    place_of(user, "rejected", lon=13.4, lat=52.5)

    body = viewport(request.getfixturevalue(who), bbox=BERLIN).json()

    assert [f["id"] for f in body["features"]] == [str(approved.id)]
    assert body["total"] == 1


def test_pending_places_do_not_swell_cluster_counts(api_client, user, place_of):
    for index in range(3):
        place_of(user, lon=13.1 + index * 0.1, lat=52.5)
        place_of(user, "pending", lon=13.1 + index * 0.1, lat=52.5)

    body = viewport(api_client, bbox=BERLIN, limit=2).json()

    assert body["clustered"] is True
    assert body["total"] == 3
