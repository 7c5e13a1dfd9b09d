"""The lean ASGI path answers the OGC items and item routes exactly as Django.

As tests/locations/test_lean_reads.py: each request goes through config.asgi.application
once on the lean path and once through Django (LEAN_READS off), and status, body and
headers must match. The items' `timeStamp` is the clock's second, so the clock is held
still for both answers. An HTML reading is handed to the DRF view, and must match too.
"""

from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from locations.api import ogc_views
from tests.locations import test_lean_reads as lean_reads
from tests.locations.test_lean_reads import LAT, LON, both, call

# The same fixtures as the viewport/search/tiles equality tests.
places = lean_reads.places
on_lean_path = lean_reads.on_lean_path

pytestmark = pytest.mark.django_db(transaction=True)

ITEMS = "/api/v1/ogc/collections/places/items"
NOW = datetime(2026, 12, 7, 22, 0, 0, tzinfo=UTC)
BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


@pytest.fixture
def still_clock(monkeypatch):
    monkeypatch.setattr(ogc_views, "timezone", SimpleNamespace(now=lambda: NOW))


@pytest.fixture
def place_id(places, user, place_of):
    return str(place_of(user, lon=LON + 0.002, lat=LAT, category="cafe", name="Item cafe").id)


def assert_same(lean_answer: dict, django_answer: dict) -> None:
    assert lean_answer["status"] == django_answer["status"]
    assert lean_answer["body"] == django_answer["body"]
    assert lean_answer["headers"] == django_answer["headers"]


@pytest.mark.parametrize(
    "query",
    [
        "",
        "?bbox=13.40,52.51,13.42,52.53&limit=3",
        "?bbox=13.40,52.51,13.42,52.53&limit=3&f=json",
        "?category=shop,cafe&limit=2",
        "?datetime=2000-01-01T00:00:00Z/..&limit=100",
        "?bbox=170,-10,-170,10",
    ],
)
@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept": "application/geo+json"}, {"Accept-Encoding": "gzip, br"}],
    ids=["plain", "geojson", "compressed"],
)
def test_items_are_answered_the_same(still_clock, places, settings, on_lean_path, query, headers):
    lean_answer, django_answer = both(ITEMS + query, settings, headers)

    assert on_lean_path == [ITEMS]
    assert_same(lean_answer, django_answer)
    assert lean_answer["status"] == 200
    assert lean_answer["headers"]["content-type"] == "application/geo+json"
    assert lean_answer["headers"]["content-crs"].startswith("<http://www.opengis.net/def/crs/")
    assert lean_answer["headers"]["etag"]
    assert lean_answer["headers"]["cache-control"].startswith("public, max-age=")
    assert "Accept" in lean_answer["headers"]["vary"]


def test_every_page_of_a_walk_is_the_same_and_holds_the_places(
    still_clock, places, settings, on_lean_path
):
    import json

    path = f"{ITEMS}?bbox=13.40,52.51,13.42,52.53&limit=3"
    seen: list[str] = []
    while path:
        lean_answer, django_answer = both(path, settings)
        assert_same(lean_answer, django_answer)
        page = json.loads(lean_answer["body"])
        seen += [feature["id"] for feature in page["features"]]
        following = [link["href"] for link in page["links"] if link["rel"] == "next"]
        path = following[0].removeprefix("http://testserver") if following else ""
    assert len(seen) == len(set(seen)) == 8  # the `places` fixture's eight
    assert set(on_lean_path) == {ITEMS}


def test_one_item_is_answered_the_same(place_id, settings, on_lean_path):
    path = f"{ITEMS}/{place_id}"
    lean_answer, django_answer = both(path, settings, {"Accept-Encoding": "gzip"})

    assert on_lean_path == [path]
    assert_same(lean_answer, django_answer)
    assert lean_answer["status"] == 200
    assert lean_answer["headers"]["content-crs"]


@pytest.mark.parametrize(
    ("suffix", "status"),
    [
        ("?limit=0", 400),
        ("?limit=5&f=xml", 400),
        ("?bbox=1,2,3", 400),
        ("?nope=1", 400),
        ("?cursor=bogus", 400),
        ("?category=nope", 400),
        ("?datetime=yesterday", 400),
    ],
)
def test_items_refusals_are_the_same_problem(settings, on_lean_path, suffix, status):
    lean_answer, django_answer = both(ITEMS + suffix, settings)

    assert on_lean_path == [ITEMS]
    assert_same(lean_answer, django_answer)
    assert lean_answer["status"] == status
    assert lean_answer["headers"]["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/ogc/collections/roads/items",
        "/api/v1/ogc/collections/roads/items?limit=0",
        f"{ITEMS}/not-a-uuid",
        f"{ITEMS}/00000000-0000-0000-0000-000000000000",
        "/api/v1/ogc/collections/roads/items/00000000-0000-0000-0000-000000000000",
        f"{ITEMS}/00000000-0000-0000-0000-000000000000?x=1",
    ],
)
def test_unknown_collections_and_items_are_the_same_problem(settings, on_lean_path, path):
    lean_answer, django_answer = both(path, settings)

    assert on_lean_path == [path.split("?")[0]]
    assert_same(lean_answer, django_answer)
    assert lean_answer["status"] in (400, 404)
    assert lean_answer["headers"]["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    ("query", "headers"),
    [("?f=html&limit=3", {}), ("?limit=3", {"Accept": BROWSER})],
    ids=["f=html", "browser-accept"],
)
def test_an_html_reading_is_the_drf_views_and_the_same(
    still_clock, place_id, settings, on_lean_path, query, headers
):
    for path in (ITEMS + query, f"{ITEMS}/{place_id}{query.replace('&limit=3', '')}"):
        lean_answer, django_answer = both(path.replace("?limit=3", ""), settings, headers)
        assert_same(lean_answer, django_answer)
        assert lean_answer["status"] == 200
        assert lean_answer["headers"]["content-type"] == "text/html; charset=utf-8"
        assert b"</html>" in lean_answer["body"]
    assert len(on_lean_path) == 2


def test_the_answers_are_read_where_the_drf_views_read(place_id, monkeypatch, on_lean_path):
    from config import db_router
    from locations.api import lean as lean_views

    routed: list[str] = []

    def spy(request, read):
        routed.append(request.path)
        return db_router.run_public_read(request, read)

    monkeypatch.setattr(lean_views, "run_public_read", spy)
    for path in (ITEMS, f"{ITEMS}/{place_id}"):
        assert call(path)["status"] == 200
    assert on_lean_path == routed == [ITEMS, f"{ITEMS}/{place_id}"]
