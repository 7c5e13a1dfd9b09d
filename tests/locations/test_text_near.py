"""Text near a point (issue 17): the search walks location_geog_text_gist and answers
exactly what a brute-force scan answers, and what the statement before the index did.

The oracle is a sequential scan (index scans off) with the words tested row by row and
the disc tested by ST_DWithin on the spheroid, ordered by the same sphere distance and
then id; "before" is the statement the search ran up to issue 17 (words tested by
ts_match_vq on the rows of a KNN walk of location_geog_approved_gist)."""

import json

import pytest
from django.db import connection

from locations.selectors import locations_search_json, locations_search_sql
from locations.selectors.search import NEAR_TEXT_VECTOR

pytestmark = pytest.mark.django_db

LON, LAT = 13.4132, 52.5219  # Alexanderplatz
ROWS = 3_000
NEXT = "https://example.test/next"

# 3,000 places in a 7 x 7 km square around the origin (random, reproducible): "lighthouse" is in
# every place, "bread" in a third, "market" in a twentieth, "honey" in one in 250; a
# tenth of the places are pending or rejected and must never show.
SEED_SQL = """
INSERT INTO locations_location
    (id, name, description, category, address, point, status, created_at, updated_at, approved_at)
SELECT
    gen_random_uuid(),
    'Place ' || i || CASE WHEN i %% 20 = 0 THEN ' market hall' ELSE '' END,
    'A lighthouse of the neighbourhood'
        || CASE WHEN i %% 3 = 0 THEN ', fresh bread every morning' ELSE '' END
        || CASE WHEN i %% 250 = 0 THEN ', local honey' ELSE '' END,
    (ARRAY['cafe','museum','park','shop','market'])[1 + i %% 5],
    '',
    ST_SetSRID(ST_MakePoint(%(lon)s + (random() - 0.5) * 0.1, %(lat)s + (random() - 0.5) * 0.06), 4326),
    CASE WHEN i %% 10 = 3 THEN 'pending' WHEN i %% 10 = 7 THEN 'rejected' ELSE 'approved' END,
    now(), now(),
    CASE WHEN i %% 10 IN (3, 7) THEN NULL ELSE now() END
FROM generate_series(1, %(rows)s) AS i;
"""


@pytest.fixture
def town(db):
    with connection.cursor() as cursor:
        cursor.execute("SELECT setseed(0.17)")
        cursor.execute(SEED_SQL, {"lon": LON, "lat": LAT, "rows": ROWS})
        cursor.execute("ANALYZE locations_location")
        cursor.execute("SELECT gin_clean_pending_list('location_search_gin')")


def _approved_at(lon: float, lat: float, name: str, description: str) -> str:
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO locations_location (id, name, description, category, address, point,"
            " status, created_at, updated_at, approved_at) VALUES (gen_random_uuid(), %s, %s,"
            " 'other', '', ST_SetSRID(ST_MakePoint(%s, %s), 4326), 'approved', now(), now(),"
            " now()) RETURNING id::text",
            [name, description, lon, lat],
        )
        return cursor.fetchone()[0]


def _at_distance(metres: float, azimuth_deg: float) -> tuple[float, float]:
    """lon/lat `metres` (on the spheroid) from the origin, as stored (9 decimals)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT round(ST_X(p)::numeric, 9)::float8, round(ST_Y(p)::numeric, 9)::float8"
            " FROM (SELECT ST_Project(ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography,"
            " %s, radians(%s))::geometry AS p) s",
            [LON, LAT, metres, azimuth_deg],
        )
        return cursor.fetchone()


def oracle(q: str, radius: int, *, categories=(), lon=LON, lat=LAT) -> list[tuple[str, float]]:
    """Every approved match in the disc, nearest first, by a sequential scan."""
    sql = """
        SELECT l.id::text, round((l.point::geography(POINT,4326) <-> o.g)::numeric, 1)::float8
        FROM locations_location l,
             (SELECT ST_SetSRID(ST_MakePoint(%(lon)s, %(lat)s), 4326)::geography AS g) o
        WHERE l.status = 'approved'
          AND ST_DWithin(l.point::geography(POINT,4326), o.g, %(radius)s::float8)
          AND ts_match_vq(l.search_vector, websearch_to_tsquery('english', %(q)s))
          AND (cardinality(%(categories)s::text[]) = 0 OR l.category = ANY(%(categories)s::text[]))
        ORDER BY l.point::geography(POINT,4326) <-> o.g, l.id
    """
    params = {"lon": lon, "lat": lat, "radius": radius, "q": q, "categories": list(categories)}
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        try:
            cursor.execute(sql, params)
            return [(row[0], row[1]) for row in cursor.fetchall()]
        finally:
            cursor.execute("RESET enable_indexscan")
            cursor.execute("RESET enable_bitmapscan")


def page(**search) -> dict:
    return json.loads(locations_search_json(next_url=NEXT, **search))


def rows_of(document: dict) -> list[tuple[str, float]]:
    return [(f["id"], f["properties"]["distance_m"]) for f in document["features"]]


def all_pages(*, limit: int, **search) -> list[tuple[str, float]]:
    rows: list[tuple[str, float]] = []
    offset = 0
    while True:
        document = page(limit=limit, offset=offset, **search)
        rows += rows_of(document)
        if document["next"] is None:
            assert len(document["features"]) <= limit
            return rows
        assert document["next"] == NEXT
        assert len(document["features"]) == limit
        offset += limit


def before_sql(**search) -> tuple[str, dict]:
    """The statement the search ran before location_geog_text_gist: the same, with the
    words tested row by row."""
    sql, params = locations_search_sql(**search)
    near = f"{NEAR_TEXT_VECTOR} @@ query"
    assert sql.count(near) == 1, sql
    return sql.replace(near, "ts_match_vq(l.search_vector, query)"), params


def run(sql: str, params: dict) -> str:
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0]


def index_names(sql: str, params: dict) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    plan = json.loads(plan) if isinstance(plan, str) else plan
    names: set[str] = set()

    def walk(node):
        if isinstance(node, dict):
            if "Index Name" in node:
                names.add(node["Index Name"])
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    return names


QUERIES = [
    "honey",  # rare: ~10 approved places in all
    "market hall",  # two words, a twentieth of the places
    "bread",  # a third of the places
    "lighthouse",  # every place
    "bread honey",  # both words
    "honey or market",  # either word
    '"fresh bread"',  # a phrase: positions, which only the row can check
    "lighthouse -bread",  # a negation
    "zeppelin",  # no place
    "the of and",  # stopwords only: an empty query matches nothing
]


# One seed per test (seeding takes seconds): each test checks many statements.


def test_every_page_is_the_brute_force_answer(town):
    for q in QUERIES:
        for radius in (300, 1_000, 2_000, 5_000):
            expected = oracle(q, radius)
            where = (q, radius)

            assert all_pages(q=q, lat=LAT, lon=LON, radius=radius, limit=7) == expected, where
            first = page(q=q, lat=LAT, lon=LON, radius=radius)  # the default limit, 50
            assert rows_of(first) == expected[:50], where
            assert (first["next"] is not None) == (len(expected) > 50), where


def test_the_edge_cases_have_the_answers_the_data_set_implies(town):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM locations_location WHERE status = 'approved' AND"
            " ST_DWithin(point::geography(POINT,4326),"
            " ST_SetSRID(ST_MakePoint(%s, %s), 4326)::geography, 2000)",
            [LON, LAT],
        )
        in_disc = cursor.fetchone()[0]

    assert 500 < in_disc < ROWS  # the data set spans more than the 2 km disc
    assert len(oracle("lighthouse", 2_000)) == in_disc  # a word in every place
    assert 0 < len(oracle("honey", 2_000)) < 15
    assert oracle("zeppelin", 2_000) == []
    assert oracle("the of and", 2_000) == []
    for q in ("zeppelin", "the of and"):
        document = page(q=q, lat=LAT, lon=LON, radius=2_000)
        assert document["features"] == []
        assert document["next"] is None


def test_the_document_is_byte_for_byte_the_one_before(town):
    for q in ("honey", "bread", "lighthouse", "zeppelin", "the of and"):
        for radius in (1_000, 2_000, 20_000):
            for offset in (0, 50):
                search = {"q": q, "lat": LAT, "lon": LON, "radius": radius, "offset": offset}
                search.update(limit=50, next_url=NEXT, previous_url="https://example.test/p")

                now, before = run(*locations_search_sql(**search)), run(*before_sql(**search))
                assert now == before, (q, radius, offset)


def test_categories_and_relevance_ordering_keep_their_answers(town):
    search = {"q": "bread", "lat": LAT, "lon": LON, "radius": 2_000, "category": ["cafe", "park"]}
    expected = oracle("bread", 2_000, categories=["cafe", "park"])

    assert all_pages(limit=20, **search) == expected
    for ordering in ("distance", "relevance"):
        for offset in (0, 30):
            both = dict(search, ordering=ordering, offset=offset, limit=30, next_url=NEXT)
            assert run(*locations_search_sql(**both)) == run(*before_sql(**both))


def test_the_radius_boundary_is_the_spheroid_distance_as_before(town):
    inside = _approved_at(*_at_distance(999.5, 30), "Inside beacon", "a zeppelin mast")
    outside = _approved_at(*_at_distance(1_000.5, 210), "Outside beacon", "a zeppelin mast")
    edge = [
        _approved_at(*_at_distance(1_000 + delta, 90 + i), f"Edge {i}", "zeppelin")
        for i, delta in enumerate((-0.01, 0.0, 0.01))
    ]

    found = [row[0] for row in all_pages(q="zeppelin", lat=LAT, lon=LON, radius=1_000, limit=2)]

    assert inside in found
    assert outside not in found
    assert found == [row[0] for row in oracle("zeppelin", 1_000)]
    assert set(edge) & set(found)  # what ST_DWithin keeps at the edge, no more, no less


def test_places_at_one_point_keep_their_id_order(town):
    lon, lat = _at_distance(250, 45)
    twins = sorted(_approved_at(lon, lat, f"Twin {i}", "a zeppelin hangar") for i in range(3))

    document = page(q="zeppelin hangar", lat=LAT, lon=LON, radius=1_000)

    assert [f["id"] for f in document["features"]] == twins
    assert rows_of(document) == oracle("zeppelin hangar", 1_000)


def test_text_near_a_point_walks_the_text_gist_nearest_first(town):
    for q in ("honey", "bread", "lighthouse"):
        for radius in (1_000, 50_000):
            sql, params = locations_search_sql(q=q, lat=LAT, lon=LON, radius=radius)
            assert "location_geog_text_gist" in index_names(sql, params), (q, radius)
    with connection.cursor() as cursor:
        sql, params = locations_search_sql(q="bread", lat=LAT, lon=LON, radius=2_000)
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    text = plan if isinstance(plan, str) else json.dumps(plan)
    assert '"Order By"' in text and "<->" in text, text
    assert "Seq Scan" not in text
