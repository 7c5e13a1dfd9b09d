"""GET /locations/search: radius, text, both; paging without COUNT; bad input."""

import pytest
from django.test import override_settings

from tests.locations.conftest import API

pytestmark = pytest.mark.django_db

# Alexanderplatz, Berlin. 0.001 degree of latitude is about 111 m.
LON, LAT = 13.4132, 52.5219


def search(client, **params):
    return client.get(f"{API}/locations/search", params)


@pytest.fixture
def around_alex(user, place_of):
    """Approved places 111 m, 333 m, 555 m and 2.2 km north of the origin."""
    return [
        place_of(user, lon=LON, lat=LAT + 0.003, name="Fernsehturm tower", category="viewpoint"),
        place_of(user, lon=LON, lat=LAT + 0.001, name="Weltzeituhr clock", category="monument"),
        place_of(user, lon=LON, lat=LAT + 0.005, name="Marienkirche church", category="monument"),
        place_of(user, lon=LON, lat=LAT + 0.02, name="Far away cafe", category="cafe"),
    ]


def test_it_finds_approved_places_in_the_radius_nearest_first(api_client, around_alex):
    response = search(api_client, lat=LAT, lon=LON, radius=1000)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
    body = response.json()
    assert body["type"] == "FeatureCollection"
    assert body["next"] is None
    names = [f["properties"]["name"] for f in body["features"]]
    assert names == ["Weltzeituhr clock", "Fernsehturm tower", "Marienkirche church"]
    distances = [f["properties"]["distance_m"] for f in body["features"]]
    assert distances == sorted(distances)
    assert 105 < distances[0] < 115
    assert 550 < distances[2] < 560
    first = body["features"][0]
    assert first["geometry"] == {"type": "Point", "coordinates": [LON, LAT + 0.001]}
    assert first["id"] == first["properties"]["id"] == str(around_alex[1].id)


def test_search_features_have_the_detail_properties_plus_distance(api_client, around_alex):
    feature = search(api_client, lat=LAT, lon=LON).json()["features"][0]
    detail = api_client.get(f"{API}/locations/{feature['id']}").json()

    expected = {k: v for k, v in detail["properties"].items() if k != "images"}
    assert {k: v for k, v in feature["properties"].items() if k != "distance_m"} == expected


@pytest.mark.parametrize("who", ["api_client", "user_client", "moderator_client"])
def test_search_shows_approved_places_only_even_to_owners_and_moderators(
    request, who, user, place_of
):
    approved = place_of(user, lon=LON, lat=LAT)
    place_of(user, "pending", lon=LON, lat=LAT)
    place_of(user, "rejected", lon=LON, lat=LAT)

    body = search(request.getfixturevalue(who), lat=LAT, lon=LON).json()

    assert [f["id"] for f in body["features"]] == [str(approved.id)]


def test_q_uses_websearch_syntax_within_the_radius(api_client, around_alex):
    body = search(api_client, lat=LAT, lon=LON, radius=5000, q='church OR "far away"').json()
    assert {f["properties"]["name"] for f in body["features"]} == {
        "Marienkirche church",
        "Far away cafe",
    }

    body = search(api_client, lat=LAT, lon=LON, radius=5000, q="tower -clock").json()
    assert [f["properties"]["name"] for f in body["features"]] == ["Fernsehturm tower"]


def test_relevance_ordering_puts_the_better_match_first(api_client, user, place_of):
    place_of(user, lon=LON, lat=LAT + 0.001, name="Corner shop", description="sells bread")
    place_of(user, lon=LON, lat=LAT + 0.004, name="Bread bakery", description="bread bread bread")

    nearest = search(api_client, lat=LAT, lon=LON, q="bread").json()["features"]
    ranked = search(api_client, lat=LAT, lon=LON, q="bread", ordering="relevance").json()

    assert [f["properties"]["name"] for f in nearest] == ["Corner shop", "Bread bakery"]
    assert [f["properties"]["name"] for f in ranked["features"]] == ["Bread bakery", "Corner shop"]


def test_text_search_without_a_point_ranks_by_relevance_and_has_no_distance(
    api_client, user, place_of
):
    place_of(user, lon=-74.0, lat=40.7, name="Harbor lighthouse", description="a lighthouse")
    place_of(user, lon=151.2, lat=-33.8, name="Lighthouse", description="lighthouse lighthouse")
    place_of(user, lon=151.2, lat=-33.8, name="Opera", description="music")

    response = search(api_client, q="lighthouse")
    assert response.status_code == 200, response.content
    body = response.json()

    assert [f["properties"]["name"] for f in body["features"]] == [
        "Lighthouse",
        "Harbor lighthouse",
    ]
    assert all(f["properties"]["distance_m"] is None for f in body["features"])


def test_several_categories_can_be_combined(api_client, around_alex):
    both = search(api_client, lat=LAT, lon=LON, radius=5000, category=["cafe", "viewpoint"])
    comma = search(api_client, lat=LAT, lon=LON, radius=5000, category="cafe,viewpoint")

    expected = {"Fernsehturm tower", "Far away cafe"}
    assert {f["properties"]["name"] for f in both.json()["features"]} == expected
    assert comma.json() == both.json()


def test_next_appears_only_when_more_results_exist_and_leads_to_them(api_client, user, place_of):
    for index in range(5):
        place_of(user, lon=LON, lat=LAT + 0.001 * (index + 1), name=f"Stop {index}")

    response = search(api_client, lat=LAT, lon=LON, limit=2)
    first = response.json()
    assert [f["properties"]["name"] for f in first["features"]] == ["Stop 0", "Stop 1"]
    assert "cursor=" in first["next"] and "offset=" not in first["next"]
    assert (first["previous"], first["limit"], first["count"]) == (None, 2, None)
    assert response["Link"] == f'<{first["next"]}>; rel="next"'

    response = api_client.get(first["next"])
    second = response.json()
    assert [f["properties"]["name"] for f in second["features"]] == ["Stop 2", "Stop 3"]
    assert response["Link"] == f'<{second["next"]}>; rel="next", <{second["previous"]}>; rel="prev"'
    back = api_client.get(second["previous"]).json()
    assert [f["properties"]["name"] for f in back["features"]] == ["Stop 0", "Stop 1"]

    response = api_client.get(second["next"])
    last = response.json()
    assert [f["properties"]["name"] for f in last["features"]] == ["Stop 4"]
    assert last["next"] is None
    assert response["Link"] == f'<{last["previous"]}>; rel="prev"'

    exact = search(api_client, lat=LAT, lon=LON, limit=5).json()
    assert len(exact["features"]) == 5
    assert exact["next"] is None


def test_search_is_one_statement_under_a_timeout(
    api_client, around_alex, settings, django_assert_num_queries
):
    # One round trip: the timeout and the search in one message; no COUNT, no per-row query.
    with django_assert_num_queries(1) as captured:
        response = search(api_client, lat=LAT, lon=LON, q="tower")
    assert response.status_code == 200
    (statement,) = [q["sql"] for q in captured.captured_queries]
    timeout = settings.PLACES_STATEMENT_TIMEOUT_MS
    assert statement.startswith(f"SET LOCAL statement_timeout = {timeout};")
    assert "ST_DWithin" in statement


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lat": 91, "lon": 0}, "lat"),
        ({"lat": -90.5, "lon": 0}, "lat"),
        ({"lat": 0, "lon": -181}, "lon"),
        ({"lat": "NaN", "lon": 0}, "lat"),
        ({"lat": 0, "lon": "Infinity"}, "lon"),
        ({"lat": "abc", "lon": 0}, "lat"),
        ({"lat": 0}, "lon"),
        ({"lon": 0}, "lat"),
        ({}, "lat"),
        ({"lat": 0, "lon": 0, "radius": 0}, "radius"),
        ({"lat": 0, "lon": 0, "radius": 50001}, "radius"),
        ({"lat": 0, "lon": 0, "radius": -5}, "radius"),
        ({"lat": 0, "lon": 0, "radius": "far"}, "radius"),
        ({"lat": 0, "lon": 0, "limit": 0}, "limit"),
        ({"lat": 0, "lon": 0, "limit": 10**6}, "limit"),
        ({"lat": 0, "lon": 0, "limit": 201}, "limit"),
        ({"lat": 0, "lon": 0, "offset": 10**7}, "offset"),
        ({"lat": 0, "lon": 0, "offset": -1}, "offset"),
        ({"lat": 0, "lon": 0, "q": "x" * 10_000}, "q"),
        ({"lat": 0, "lon": 0, "category": "nightclub"}, "category"),
        ({"lat": 0, "lon": 0, "category": "park,nightclub"}, "category"),
        ({"lat": 0, "lon": 0, "ordering": "random"}, "ordering"),
        ({"lat": 0, "lon": 0, "ordering": "relevance"}, "ordering"),
        ({"q": "museum", "ordering": "distance"}, "ordering"),
        ({"lat": 0, "lon": 0, "q": "nul\x00byte"}, "q"),
    ],
)
def test_it_rejects_bad_search_parameters_naming_the_field(api_client, params, field):
    response = search(api_client, **params)

    assert response.status_code == 400, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"], response.json()


def test_a_query_of_stop_words_only_finds_nothing_rather_than_failing(api_client, around_alex):
    response = search(api_client, lat=LAT, lon=LON, q="the and of")
    assert response.status_code == 200
    assert response.json()["features"] == []


def test_reads_are_throttled_per_client_with_retry_after(api_client, around_alex):
    from django.conf import settings

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "reads": "2/hour"}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        statuses = [search(api_client, lat=LAT, lon=LON).status_code for _ in range(3)]
        throttled = search(api_client, lat=LAT, lon=LON)

    assert statuses == [200, 200, 429]
    assert throttled.status_code == 429
    assert throttled["Content-Type"] == "application/problem+json"
    assert 1 <= int(throttled["Retry-After"]) <= 3600


def test_each_client_has_its_own_read_budget(api_client, user_client, around_alex):
    from django.conf import settings

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "reads": "1/hour"}
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        anonymous = [search(api_client, lat=LAT, lon=LON).status_code for _ in range(2)]
        signed_in = [search(user_client, lat=LAT, lon=LON).status_code for _ in range(2)]

    assert anonymous == [200, 429]
    assert signed_in == [200, 429]


def test_no_next_link_points_past_the_offset_cap(api_client):
    from django.db import connection

    with connection.cursor() as cursor:  # 10,005 approved places at the origin
        cursor.execute(
            """
            INSERT INTO locations_location (id, name, description, category, address, point,
                                            status, created_at, updated_at, approved_at)
            SELECT gen_random_uuid(), 'Crowded ' || i, '', 'park', '',
                   ST_SetSRID(ST_MakePoint(%s, %s), 4326), 'approved', now(), now(), now()
            FROM generate_series(1, 10005) AS i
            """,
            [LON, LAT],
        )

    below_cap = search(api_client, lat=LAT, lon=LON, limit=2, offset=9_998).json()
    at_cap = search(api_client, lat=LAT, lon=LON, limit=2, offset=10_000).json()

    assert api_client.get(below_cap["next"]).json()["features"] == at_cap["features"]
    assert len(at_cap["features"]) == 2
    assert at_cap["next"] is None  # offset 10,002 would be refused
