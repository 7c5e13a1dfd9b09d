"""OGC API - Features at /api/v1/ogc/: the documents, items with their filters and
paging, one item, the HTML renderings and the refusals."""

from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs, urlsplit

import pytest

from locations import categories
from tests.locations.conftest import API
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

OGC = f"{API}/ogc"
ITEMS = f"{OGC}/collections/places/items"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"


def get(client, url, params=None, **headers):
    return client.get(url, params or {}, **headers)


def rels(document) -> dict[str, list[dict]]:
    found: dict[str, list[dict]] = {}
    for link in document["links"]:
        found.setdefault(link["rel"], []).append(link)
    return found


def relative(href: str) -> str:
    parts = urlsplit(href)
    assert parts.scheme == "http" and parts.netloc == "testserver", href
    return f"{parts.path}?{parts.query}" if parts.query else parts.path


def ids(response) -> list[str]:
    return [feature["id"] for feature in response.json()["features"]]


# --- Landing page, conformance, API definition --------------------------------------


@pytest.mark.parametrize("path", [f"{OGC}/", OGC])
def test_the_landing_page_links_what_the_standard_asks_for(api_client, path):
    response = get(api_client, path)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["title"]
    links = rels(body)
    assert {"self", "alternate", "service-desc", "service-doc", "conformance", "data"} <= set(links)
    assert links["service-desc"][0]["type"] == "application/vnd.oai.openapi+json;version=3.0"
    assert links["alternate"][0]["type"] == "text/html"
    # Every link resolves, in the type it announces.
    for link in body["links"]:
        target = get(api_client, relative(link["href"]))
        assert target.status_code == 200, link
        assert target["Content-Type"].startswith(link["type"].split(";")[0]), link


def test_conformance_declares_core_geojson_html_and_openapi(api_client):
    body = get(api_client, f"{OGC}/conformance").json()

    base = "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/"
    assert set(body["conformsTo"]) == {base + c for c in ("core", "geojson", "html", "oas30")}


def test_the_service_desc_is_an_openapi_3_document_of_these_endpoints(api_client):
    response = get(api_client, f"{OGC}/api")

    assert response["Content-Type"] == "application/vnd.oai.openapi+json;version=3.0"
    body = response.json()
    assert body["openapi"].startswith("3.0")
    assert body["servers"] == [{"url": "http://testserver/api/v1/ogc"}]
    items = body["paths"]["/collections/places/items"]["get"]
    names = {parameter["name"] for parameter in items["parameters"]}
    assert {"bbox", "limit", "datetime", "category", "cursor", "f"} == names
    assert "/collections/places/items/{featureId}" in body["paths"]


def test_the_ogc_endpoints_stay_out_of_the_rest_api_schema(api_client):
    schema = get(api_client, f"{API}/schema", HTTP_ACCEPT="application/json").json()

    assert not [path for path in schema["paths"] if "/ogc" in path]


# --- Collections -------------------------------------------------------------------


def test_the_collection_extent_covers_the_approved_places_only(api_client, user, place_of):
    first = place_of(user, lon=-70.5, lat=-33.4)
    last = place_of(user, lon=151.2, lat=-12.0)
    place_of(user, lon=10.0, lat=60.0)
    place_of(user, "pending", lon=-170.0, lat=80.0)
    place_of(user, "rejected", lon=170.0, lat=-80.0)
    first.approved_at = datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC)
    first.save()
    last.approved_at = datetime(2026, 6, 1, tzinfo=UTC)
    last.save()

    collection = get(api_client, f"{OGC}/collections/places").json()

    assert collection["id"] == "places"
    assert collection["itemType"] == "feature"
    assert collection["crs"] == [CRS84]
    assert collection["extent"]["spatial"] == {"bbox": [[-70.5, -33.4, 151.2, 60.0]], "crs": CRS84}
    (interval,) = collection["extent"]["temporal"]["interval"]
    assert interval[0] == "2026-01-02T03:04:05.000000Z"
    assert interval[1] > "2026-06"  # the factory approves the others now
    links = rels(collection)
    assert links["items"][0]["type"] == "application/geo+json"
    assert "http://www.opengis.net/def/rel/ogc/1.0/queryables" in links


def test_collections_lists_places_with_its_extent(api_client, user, place_of):
    place_of(user, lon=1.0, lat=2.0)
    place_of(user, lon=3.0, lat=4.0)

    body = get(api_client, f"{OGC}/collections").json()

    (collection,) = body["collections"]
    assert collection["id"] == "places"
    assert collection["extent"]["spatial"]["bbox"] == [[1.0, 2.0, 3.0, 4.0]]
    assert {"self", "alternate"} <= set(rels(body))


def test_an_empty_collection_has_no_extent(api_client):
    collection = get(api_client, f"{OGC}/collections/places").json()

    assert "extent" not in collection


def test_queryables_name_category_with_its_values(api_client):
    from tests.locations.conftest import MIGRATED_CATEGORIES

    response = get(api_client, f"{OGC}/collections/places/queryables")

    assert response["Content-Type"] == "application/schema+json"
    body = response.json()
    assert body["type"] == "object"
    assert body["properties"]["category"]["enum"] == list(MIGRATED_CATEGORIES)
    assert body["properties"]["category"]["oneOf"][1] == {"const": "cafe", "title": "Café"}


def test_an_unknown_collection_is_404(api_client):
    for path in ("collections/roads", "collections/roads/items", "collections/roads/items/x"):
        assert_problem(get(api_client, f"{OGC}/{path}"), 404)


# --- Items --------------------------------------------------------------------------


def test_items_are_the_approved_places_as_geojson(api_client, user, place_of):
    place = place_of(user, lon=13.4, lat=52.52, name="Museum Island", category="museum")
    place_of(user, "pending")
    place_of(user, "rejected")

    response = get(api_client, ITEMS)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Crs"] == f"<{CRS84}>"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    (feature,) = body["features"]
    assert feature["id"] == str(place.id)
    assert feature["geometry"] == {"type": "Point", "coordinates": [13.4, 52.52]}
    assert feature["properties"]["name"] == "Museum Island"
    assert feature["properties"]["category"] == "museum"
    assert "status" not in feature["properties"]
    assert body["numberReturned"] == 1
    assert body["numberMatched"] == 1
    stamp = datetime.strptime(body["timeStamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    assert abs(datetime.now(UTC) - stamp) < timedelta(minutes=1)
    links = rels(body)
    assert links["self"][0]["type"] == "application/geo+json"
    assert "next" not in links


def test_limit_defaults_to_10_and_is_served_up_to_10000(api_client, user, place_of):
    for index in range(12):
        place_of(user, lon=index, lat=0)

    assert len(ids(get(api_client, ITEMS))) == 10
    assert len(ids(get(api_client, ITEMS, {"limit": "3"}))) == 3
    # Above the maximum is served as the maximum, as the standard's limit allows.
    assert len(ids(get(api_client, ITEMS, {"limit": "50000"}))) == 12
    assert len(ids(get(api_client, ITEMS, {"limit": "9" * 5000}))) == 12
    assert len(ids(get(api_client, ITEMS, {"limit": "007"}))) == 7


def test_paging_follows_next_links_through_every_place_once(api_client, user, place_of):
    places = {str(place_of(user, lon=index * 0.5, lat=10).id) for index in range(23)}
    place_of(user, "pending")

    seen: list[str] = []
    url, pages = f"{ITEMS}?limit=5", 0
    while url:
        body = get(api_client, url).json()
        seen += [feature["id"] for feature in body["features"]]
        assert body["numberReturned"] == len(body["features"])
        assert body["numberMatched"] == 23
        next_links = rels(body).get("next", [])
        url = relative(next_links[0]["href"]) if next_links else None
        pages += 1

    assert pages == 5
    assert len(seen) == len(set(seen)) == 23
    assert set(seen) == places
    assert seen == sorted(seen)


def test_prev_links_walk_back_page_by_page(api_client, user, place_of):
    for index in range(7):
        place_of(user, lon=index, lat=0)
    first = get(api_client, ITEMS, {"limit": "3"}).json()
    assert "prev" not in rels(first)
    second = get(api_client, relative(rels(first)["next"][0]["href"])).json()
    third = get(api_client, relative(rels(second)["next"][0]["href"])).json()
    assert len(third["features"]) == 1
    assert "next" not in rels(third)

    back = get(api_client, relative(rels(third)["prev"][0]["href"])).json()
    assert [f["id"] for f in back["features"]] == [f["id"] for f in second["features"]]
    start = get(api_client, relative(rels(back)["prev"][0]["href"])).json()
    assert [f["id"] for f in start["features"]] == [f["id"] for f in first["features"]]
    assert "prev" not in rels(start)
    assert "next" in rels(start)


def test_links_keep_the_filters_and_limit(api_client, user, place_of):
    for index in range(4):
        place_of(user, lon=index, lat=0, category="cafe")

    body = get(api_client, ITEMS, {"limit": "2", "category": "cafe", "bbox": "-1,-1,5,1"}).json()

    query = parse_qs(urlsplit(rels(body)["next"][0]["href"]).query)
    assert query["limit"] == ["2"] and query["category"] == ["cafe"]
    assert query["bbox"] == ["-1,-1,5,1"] and query["f"] == ["json"]
    assert rels(body)["alternate"][0]["href"].endswith("f=html")


def test_bbox_filters_and_omits_number_matched(api_client, user, place_of):
    inside = place_of(user, lon=13.4, lat=52.5)
    place_of(user, lon=2.35, lat=48.85)

    body = get(api_client, ITEMS, {"bbox": "13,52,14,53"}).json()

    assert [f["id"] for f in body["features"]] == [str(inside.id)]
    assert "numberMatched" not in body
    assert body["numberReturned"] == 1


def test_bbox_across_the_antimeridian(api_client, user, place_of):
    east = place_of(user, lon=179.5, lat=-17.0)
    west = place_of(user, lon=-179.5, lat=-17.0)
    place_of(user, lon=0.0, lat=-17.0)

    found = ids(get(api_client, ITEMS, {"bbox": "179,-18,-179,-16"}))

    assert set(found) == {str(east.id), str(west.id)}


def test_bbox_with_heights_and_a_single_point(api_client, user, place_of):
    place = place_of(user, lon=5.0, lat=6.0)

    assert ids(get(api_client, ITEMS, {"bbox": "4,5,-100,6,7,100"})) == [str(place.id)]
    assert ids(get(api_client, ITEMS, {"bbox": "5,6,5,6"})) == [str(place.id)]


def test_category_filters_and_counts_from_the_summary(api_client, user, place_of):
    cafes = {str(place_of(user, lon=i, lat=0, category="cafe").id) for i in range(3)}
    parks = {str(place_of(user, lon=i, lat=1, category="park").id) for i in range(2)}
    place_of(user, lon=0, lat=2, category="bar")

    one = get(api_client, ITEMS, {"category": "cafe"}).json()
    two = get(api_client, ITEMS, {"category": "cafe,park"}).json()
    repeated = get(api_client, f"{ITEMS}?category=cafe&category=park").json()

    assert {f["id"] for f in one["features"]} == cafes and one["numberMatched"] == 3
    assert {f["id"] for f in two["features"]} == cafes | parks and two["numberMatched"] == 5
    assert repeated["numberMatched"] == 5


def _approved_at(place, when: datetime):
    place.approved_at = when
    place.save()
    return str(place.id)


def test_datetime_instants_intervals_and_open_ends(api_client, user, place_of):
    jan = _approved_at(place_of(user), datetime(2026, 1, 15, 12, 0, tzinfo=UTC))
    feb = _approved_at(place_of(user), datetime(2026, 2, 15, 12, 0, 0, 500000, tzinfo=UTC))
    mar = _approved_at(place_of(user), datetime(2026, 3, 15, 23, 59, 59, tzinfo=UTC))

    def found(value):
        response = get(api_client, ITEMS, {"datetime": value})
        assert response.status_code == 200, response.content
        # A time filter is not counted cheaply; "../.." filters nothing.
        assert ("numberMatched" in response.json()) == (value == "../..")
        return set(ids(response))

    assert found("2026-02-15T12:00:00.5Z") == {feb}
    assert found("2026-02-15T13:00:00.500+01:00") == {feb}
    assert found("2026-03-15") == {mar}
    assert found("2026-01-01T00:00:00Z/2026-02-28T00:00:00Z") == {jan, feb}
    assert found("2026-02-15T12:00:00.5Z/..") == {feb, mar}
    assert found("../2026-02-15T12:00:00.5Z") == {jan, feb}
    assert found("/2026-01-31") == {jan}
    assert found("2026-02-01/2026-03-15") == {feb, mar}
    assert found("2026-03-16/") == set()
    assert found("../..") == {jan, feb, mar}
    # The truncated forms GDAL's OAPIF driver writes for a -where on a date field.
    assert found("2026-03-15T") == {mar}
    assert found("2026-02-15T/..") == {feb, mar}
    assert found("2026-01-15T12Z") == {jan}
    assert found("../2026-01-15T12:00Z") == {jan}


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("limit", "0"),
        ("limit", "-1"),
        ("limit", "ten"),
        ("limit", "1.5"),
        ("limit", ""),
        ("limit", "000"),
        ("limit", "١٢"),  # digits, but not ASCII ones
        ("bbox", "1,2,x,3,4,5"),
        ("bbox", "1,2,3"),
        ("bbox", "1,2,3,4,5"),
        ("bbox", "a,b,c,d"),
        ("bbox", "0,0,200,1"),
        ("bbox", "0,10,1,0"),
        ("bbox", "0,0,1,nan"),
        ("datetime", "yesterday"),
        ("datetime", "2026-01-01T00:00:00"),  # no zone
        ("datetime", "2026-13-01"),
        ("datetime", "2026-01-01T12"),
        ("datetime", "2026-01-01T25Z"),
        ("datetime", "2026-02-01/2026-01-01"),
        ("datetime", "2026-01-01/2026-02-01/2026-03-01"),
        ("category", "volcano"),
        ("category", "cafe,"),
        ("cursor", "not-a-cursor"),
        ("cursor", "eA"),
        ("f", "xml"),
    ],
)
def test_bad_parameters_are_400_naming_them(api_client, field, value):
    assert_problem(get(api_client, ITEMS, {field: value}), 400, field=field)


def test_unknown_parameters_are_400_everywhere(api_client, user, place_of):
    place = place_of(user)
    paths = [
        f"{OGC}/",
        f"{OGC}/conformance",
        f"{OGC}/api",
        f"{OGC}/collections",
        f"{OGC}/collections/places",
        f"{OGC}/collections/places/queryables",
        ITEMS,
        f"{ITEMS}/{place.id}",
    ]
    for path in paths:
        assert_problem(get(api_client, path, {"colour": "red"}), 400, field="colour")
    # Not DRF's renderer override either.
    assert_problem(get(api_client, ITEMS, {"format": "json"}), 400, field="format")
    assert_problem(get(api_client, ITEMS, {"name": "x"}), 400, field="name")


def test_a_parameter_given_twice_is_400(api_client):
    assert_problem(get(api_client, f"{ITEMS}?limit=1&limit=2"), 400, field="limit")


# --- One item -----------------------------------------------------------------------


def test_one_item_is_a_feature_with_links(api_client, user, place_of):
    place = place_of(user, lon=2.2945, lat=48.8584, name="Eiffel Tower", category="monument")

    response = get(api_client, f"{ITEMS}/{place.id}")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Crs"] == f"<{CRS84}>"
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["id"] == str(place.id)
    assert feature["geometry"]["coordinates"] == [2.2945, 48.8584]
    assert feature["properties"]["name"] == "Eiffel Tower"
    assert {"self", "alternate", "collection"} <= set(rels(feature))


def test_an_unknown_or_unapproved_item_is_404(api_client, user, place_of):
    pending = place_of(user, "pending")
    rejected = place_of(user, "rejected")
    for feature_id in (pending.id, rejected.id, "00000000-0000-0000-0000-000000000000", "nope"):
        assert_problem(get(api_client, f"{ITEMS}/{feature_id}"), 404)


def test_the_owner_does_not_see_a_pending_item_either(user_client, user, place_of):
    pending = place_of(user, "pending")

    assert_problem(get(user_client, f"{ITEMS}/{pending.id}"), 404)


# --- HTML ---------------------------------------------------------------------------

BROWSER = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"


def test_a_browser_gets_html_and_a_client_json(api_client):
    browser = get(api_client, f"{OGC}/", HTTP_ACCEPT=BROWSER)
    client = get(api_client, f"{OGC}/", HTTP_ACCEPT="application/json")
    anything = get(api_client, f"{OGC}/", HTTP_ACCEPT="*/*")
    geojson = get(api_client, ITEMS, HTTP_ACCEPT="application/geo+json")

    assert browser["Content-Type"] == "text/html; charset=utf-8"
    assert client["Content-Type"] == "application/json"
    assert anything["Content-Type"] == "application/json"
    assert geojson["Content-Type"] == "application/geo+json"
    assert "Accept" in browser["Vary"]
    # f wins over Accept.
    assert get(api_client, f"{OGC}/", {"f": "json"}, HTTP_ACCEPT=BROWSER).json()["title"]


def test_every_resource_renders_as_html(api_client, user, place_of):
    place = place_of(user, name="Tiergarten <b>&</b>", category="park")
    paths = [
        f"{OGC}/",
        f"{OGC}/conformance",
        f"{OGC}/api",
        f"{OGC}/collections",
        f"{OGC}/collections/places",
        f"{OGC}/collections/places/queryables",
        ITEMS,
        f"{ITEMS}/{place.id}",
    ]
    for path in paths:
        response = get(api_client, path, {"f": "html"})
        assert response.status_code == 200, path
        assert response["Content-Type"] == "text/html; charset=utf-8"
        assert response.content.startswith(b"<!doctype html>")
    items = get(api_client, ITEMS, {"f": "html"}).content.decode()
    assert "Tiergarten &lt;b&gt;&amp;&lt;/b&gt;" in items
    assert "<b>&</b>" not in items
    detail = get(api_client, f"{ITEMS}/{place.id}", {"f": "html"}).content.decode()
    assert "Tiergarten &lt;b&gt;" in detail


def test_html_items_link_the_next_page_as_html(api_client, user, place_of):
    for index in range(3):
        place_of(user, lon=index, lat=0)

    html = get(api_client, ITEMS, {"f": "html", "limit": "2"}).content.decode()

    assert 'rel="next"' in html
    next_href = html.split('rel="next" href="')[1].split('"')[0].replace("&amp;", "&")
    assert next_href.endswith("f=html")
    page = get(api_client, relative(next_href))
    assert page["Content-Type"] == "text/html; charset=utf-8"


def test_head_answers_like_get_without_a_body(api_client, user, place_of):
    place_of(user)

    response = api_client.head(ITEMS)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    assert response.content == b""


def test_a_page_and_the_collection_are_one_query_each(
    api_client, user, place_of, django_assert_num_queries
):
    for index in range(30):
        place_of(user, lon=index, lat=0, category="cafe" if index % 2 else "park")
    # The process reads the categories once per CATEGORY_CACHE_SECONDS, not per request.
    categories.known_slugs()

    with django_assert_num_queries(1):
        page = get(api_client, ITEMS, {"limit": "25", "category": "cafe"})
    with django_assert_num_queries(1):
        collection = get(api_client, f"{OGC}/collections/places")

    assert page.json()["numberReturned"] == 15
    assert collection.json()["extent"]["spatial"]["bbox"] == [[0.0, 0.0, 29.0, 0.0]]


def test_ogc_items_are_cacheable_public_reads(api_client, user, place_of):
    place_of(user, lon=10.0, lat=50.0)
    first = api_client.get("/api/v1/ogc/collections/places/items")
    assert first.status_code == 200
    assert first["Cache-Control"].startswith("public, max-age=")
    again = api_client.get("/api/v1/ogc/collections/places/items", HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 304
