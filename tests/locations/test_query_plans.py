"""The public reads use their indexes (EXPLAIN on 10,000 places, as the planner sees a
real table; no enable_seqscan tricks)."""

import json

import pytest
from django.db import connection, transaction

from locations.selectors import (
    location_duplicates_sql,
    locations_duplicates_by_id,
    locations_search_sql,
    locations_viewport_sql,
)

pytestmark = pytest.mark.django_db

ROWS = 10_000
# Both partial GiSTs lead with the approved places' geography, so either serves a radius
# walk or a duplicates probe: on 10,000 rows their costs tie; at 1M the planner takes
# the smaller location_geog_approved_gist for radius (docs/benchmarks.md "Text near a
# point"). Text near a point needs location_geog_text_gist (asserted below).
APPROVED_GEOG = ("location_geog_approved_gist", "location_geog_text_gist")
BERLIN_LON, BERLIN_LAT = 13.40, 52.52

SEED_SQL = """
SELECT setseed(0.42);
INSERT INTO locations_location
    (id, name, description, category, address, point, status, created_at, updated_at, approved_at)
SELECT
    gen_random_uuid(),
    'Place ' || i || ' ' || (ARRAY['bakery','museum','garden','tower','market'])[1 + i % 5]
        || CASE WHEN i % 200 = 0 THEN ' lighthouse' ELSE '' END,
    (ARRAY['fresh bread every morning','old paintings and sculptures','roses and a pond',
           'a view over the roofs','fruit and vegetables'])[1 + i % 5],
    (ARRAY['cafe','museum','park','viewpoint','market'])[1 + i % 5],
    '',
    -- 20% in and around Berlin, 80% spread over Europe.
    CASE WHEN i % 5 = 0
        THEN ST_SetSRID(ST_MakePoint(13.0 + random() * 0.8, 52.3 + random() * 0.4), 4326)
        ELSE ST_SetSRID(ST_MakePoint(-10 + random() * 40, 36 + random() * 24), 4326)
    END,
    CASE WHEN i % 10 = 3 THEN 'pending' ELSE 'approved' END,
    now(), now(),
    CASE WHEN i % 10 = 3 THEN NULL ELSE now() END
FROM generate_series(1, %s) AS i;
"""


@pytest.fixture
def many_places(db):
    with connection.cursor() as cursor:
        cursor.execute(SEED_SQL.replace("%s", str(ROWS)))
        # ANALYZE sees this transaction's own rows: the planner gets real statistics.
        cursor.execute("ANALYZE locations_location")
        # Fresh GIN entries sit in the index's pending list, which the planner rightly
        # prices as slow; autovacuum flushes it on a live database, we do it here.
        cursor.execute("SELECT gin_clean_pending_list('location_search_gin')")
        # Guards the tests against planning on an empty table.
        cursor.execute("SELECT count(*) FROM locations_location WHERE status = 'approved'")
        assert cursor.fetchone()[0] == ROWS * 9 // 10


def plan_of(sql: str, params: dict) -> str:
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    return json.dumps(plan if not isinstance(plan, str) else json.loads(plan))


def scans_on_locations(plan: str) -> set[str]:
    nodes = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("Relation Name") == "locations_location" or "Index Name" in node:
                nodes.append(f"{node['Node Type']}:{node.get('Index Name', '')}")
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(json.loads(plan))
    return set(nodes)


def uses(plan_scans: set[str], *indexes: str) -> bool:
    return any(index in scan for scan in plan_scans for index in indexes)


def full_scans(plan_scans: set[str]) -> set[str]:
    return {scan for scan in plan_scans if scan.startswith("Seq Scan")}


# The seed takes seconds, so each test checks several statements on one seed.


def test_a_radius_search_walks_the_index_nearest_first_instead_of_sorting_the_disc(
    many_places,
):
    plan = json.loads(plan_of(*locations_search_sql(lat=BERLIN_LAT, lon=BERLIN_LON, limit=20)))
    knn_scans = []

    def walk(node):
        if isinstance(node, dict):
            if node.get("Index Name") in APPROVED_GEOG and node.get("Order By"):
                knn_scans.append(node)
            for value in node.values():
                walk(value)
        elif isinstance(node, list):
            for value in node:
                walk(value)

    walk(plan)
    assert knn_scans, plan
    assert "<->" in knn_scans[0]["Order By"]


def test_radius_text_and_combined_searches_use_their_indexes(many_places):
    radius = scans_on_locations(plan_of(*locations_search_sql(lat=BERLIN_LAT, lon=BERLIN_LON)))
    assert uses(radius, *APPROVED_GEOG), radius
    assert not full_scans(radius), radius

    # Text alone (a rare word, two words found together nowhere): the GIN, never the
    # signatures of location_geog_text_gist (its own expression keeps it out).
    for q in ("lighthouse", "lighthouse museum"):
        text = scans_on_locations(plan_of(*locations_search_sql(q=q)))
        assert uses(text, "location_search_gin"), text
        assert not uses(text, "location_geog_text_gist"), text
        assert not full_scans(text), text

    # Text near a point, a rare word over a wide radius or a common one within a small
    # radius: the geography-and-words GiST, never a GIN bitmap of every place on the map
    # with that word (tests/locations/test_text_near.py checks the answers).
    for radius, q, category in ((50_000, "lighthouse", ["cafe", "park"]), (1_000, "bread", [])):
        sql, params = locations_search_sql(
            lat=BERLIN_LAT, lon=BERLIN_LON, radius=radius, q=q, category=category
        )
        near = scans_on_locations(plan_of(sql, params))
        assert uses(near, "location_geog_text_gist"), near
        assert not uses(near, "location_search_gin"), near
        assert not full_scans(near), near


def test_viewports_use_the_point_index_for_places_and_for_clusters(many_places):
    for bbox in (
        (13.35, 52.50, 13.45, 52.54),  # a city district
        (179.0, -18.0, -179.0, -16.0),  # across the antimeridian: two envelopes
    ):
        for limit in (500, 5):  # places, and the clustering branch
            scans = scans_on_locations(plan_of(*locations_viewport_sql(bbox=bbox, limit=limit)))
            assert uses(scans, "location_point_approved_gist"), (bbox, limit, scans)
            assert not full_scans(scans), (bbox, limit, scans)


def test_the_covering_index_answers_a_zoomed_in_tile_without_the_table(many_places, settings):
    # Whether the planner takes it depends on the table's size and how much of it VACUUM
    # has marked all-visible (at 1M places it does: docs/benchmarks.md); what must hold at
    # any size is that the index carries every column a tile reads: with the other plans
    # out of the way (the point's small GiST dropped inside a transaction that rolls
    # back, no bitmap or sequential scans), PostgreSQL plans an index-only scan, which it
    # does only for an index that returns every column the query reads.
    from locations.selectors import locations_tile_sql

    # One point per place from z 11 on; z 11 over Berlin holds ~100 of the places seeded.
    settings.TILE_CLUSTER_MAX_ZOOM = 10
    sql, params = locations_tile_sql(z=11, x=1100, y=671)
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DROP INDEX location_point_approved_gist")
        cursor.execute("SET LOCAL enable_bitmapscan = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN (ANALYZE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
        transaction.set_rollback(True)
    scan = _scan_of(plan[0]["Plan"])

    assert (scan["Node Type"], scan["Index Name"]) == (
        "Index Only Scan",
        "location_tile_cover_gist",
    ), plan
    assert scan["Actual Rows"] > 50, plan


def _scan_of(node: dict) -> dict:
    # The one scan of locations_location under the aggregate (and the subquery scan).
    while "Relation Name" not in node:
        (node,) = node["Plans"]
    return node


def test_a_zoomed_in_tile_computes_each_places_geometry_once(many_places, settings):
    # ST_AsMVTGeom per place was evaluated twice (in the scan's `geom IS NOT NULL`
    # filter and again for ST_AsMVT) until the subquery was fenced (OFFSET 0).
    from locations.selectors import locations_tile_sql

    settings.TILE_CLUSTER_MAX_ZOOM = 10
    sql, params = locations_tile_sql(z=11, x=1100, y=671)
    with connection.cursor() as cursor:
        cursor.execute("EXPLAIN (VERBOSE, FORMAT JSON) " + sql, params)
        plan = cursor.fetchone()[0]
    text = json.dumps(plan).lower()

    assert text.count("st_asmvtgeom(") == 1, plan
    scan = _scan_of(plan[0]["Plan"])
    assert "st_asmvtgeom" in " ".join(scan["Output"]).lower(), plan
    assert "st_asmvtgeom" not in scan.get("Filter", "").lower(), plan


# --- OGC API - Features (locations.selectors.ogc) ---------------------------------------


def test_the_ogc_extent_reads_each_edge_and_time_through_an_index(many_places):
    from locations.selectors import ogc_places_extent_sql

    plan = plan_of(ogc_places_extent_sql(), {})

    assert plan.count("location_point_approved_gist") == 4, plan
    assert plan.count("location_approved_at") == 2, plan
    assert "Seq Scan" not in plan, plan


def test_ogc_items_in_a_bbox_use_the_spatial_index(many_places):
    from locations.geo import parse_bbox
    from locations.selectors import ItemsFilter, ogc_items_sql

    bbox = parse_bbox("13.3,52.45,13.5,52.55")
    plan = plan_of(*ogc_items_sql(filters=ItemsFilter(bbox=bbox), limit=100))

    assert "location_point_approved_gist" in plan, plan
    assert "Seq Scan" not in plan, plan


def test_ogc_items_pages_walk_the_primary_key(many_places):
    import uuid

    from locations.selectors import ItemsFilter, ogc_items_sql

    plan = plan_of(*ogc_items_sql(filters=ItemsFilter(), limit=100, after=uuid.uuid4()))

    assert "locations_location_pkey" in plan, plan
    assert "Seq Scan on locations_location" not in plan, plan


def test_duplicate_candidates_use_the_approved_and_the_pending_indexes(many_places):
    sql, params = location_duplicates_sql(
        latitude=BERLIN_LAT, longitude=BERLIN_LON, name="Place 15 bakery", pending=True
    )

    plan = plan_of(sql, params)

    assert any(index in plan for index in APPROVED_GEOG), plan
    assert "location_dup_pending_gist" in plan
    assert "Seq Scan" not in plan


def test_the_queue_pages_duplicates_use_the_indexes_too(many_places):
    with connection.cursor() as cursor:
        cursor.execute("SELECT id FROM locations_location WHERE status = 'pending' LIMIT 50")
        ids = [row[0] for row in cursor.fetchall()]
    capture = _Capture()
    with connection.execute_wrapper(capture):
        locations_duplicates_by_id(location_ids=ids)
    plan = plan_of(*capture.statement)

    assert any(index in plan for index in APPROVED_GEOG), plan
    assert "location_dup_pending_gist" in plan


class _Capture:
    statement: tuple = ()

    def __call__(self, execute, sql, params, many, context):
        self.statement = (sql, params)
        return execute(sql, params, many, context)
