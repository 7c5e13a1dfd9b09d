"""Zoomed-out viewport clusters from the GridCell summary: fast, and still exact."""

import importlib
import json
import math
import random
import time
from concurrent.futures import ThreadPoolExecutor

import psycopg
import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from locations import imports
from locations.models import GridCell, Location, LocationStatus
from locations.selectors import (
    Viewport,
    cluster_cell_size,
    locations_viewport_sql,
    viewport_summary_plan,
)
from moderation.services import location_transition
from tests.locations.conftest import API
from tests.locations.factories import LocationFactory

pytestmark = pytest.mark.django_db

EUROPE = (-11.3, 35.2, 31.7, 61.1)
LIMIT = 10

# The migration's backfill, as the reference the trigger-kept table must equal.
RECOMPUTED = """
SELECT lv, floor(ST_X(point) / (360.0::float8 / (1 << lv)))::int,
       floor(ST_Y(point) / (360.0::float8 / (1 << lv)))::int,
       category, count(*), sum(ST_X(point)), sum(ST_Y(point))
FROM locations_location CROSS JOIN unnest('{4,6,8,10,12,14,16}'::int[]) lv
WHERE status = 'approved'
GROUP BY 1, 2, 3, 4
"""


def run_viewport(bbox, **params) -> dict:
    sql, values = locations_viewport_sql(bbox=bbox, limit=LIMIT, **params)
    with connection.cursor() as cursor:
        cursor.execute(sql, values)
        return json.loads(cursor.fetchone()[0])


def cells_of(body) -> dict:
    """Cluster counts and mean positions keyed by their cell."""
    size = body["cell_size_deg"]
    return {
        (
            math.floor(f["properties"]["bbox"][0] / size),
            math.floor(f["properties"]["bbox"][1] / size),
        ): (f["properties"]["count"], f["geometry"]["coordinates"])
        for f in body["features"]
    }


def true_count(bbox, categories=()) -> int:
    x1, y1, x2, y2 = bbox
    count = 0
    for location in Location.objects.filter(status=LocationStatus.APPROVED):
        lon, lat = location.point.x, location.point.y
        inside_lon = x1 <= lon <= x2 if x1 <= x2 else (lon >= x1 or lon <= x2)
        if inside_lon and y1 <= lat <= y2 and (not categories or location.category in categories):
            count += 1
    return count


def assert_summary_exact():
    with connection.cursor() as cursor:
        cursor.execute(RECOMPUTED)
        expected = {row[:4]: row[4:] for row in cursor.fetchall()}
    kept = {
        (c.level, c.cx, c.cy, c.category): (c.n, c.sum_lon, c.sum_lat)
        for c in GridCell.objects.all()
    }
    assert kept.keys() == expected.keys()
    for key, (n, sum_lon, sum_lat) in kept.items():
        assert n == expected[key][0], key
        assert sum_lon == pytest.approx(expected[key][1], abs=1e-9)
        assert sum_lat == pytest.approx(expected[key][2], abs=1e-9)


def assert_aggregate_matches_places(bbox, **params):
    """The summary answer has the scan's clusters, counts and positions, and the total."""
    plan = viewport_summary_plan(
        viewport=Viewport(*bbox),
        cell=cluster_cell_size(viewport=Viewport(*bbox), zoom=params.get("zoom"), limit=LIMIT),
        q=params.get("q", ""),
    )
    assert plan is not None, "this bbox should read the summary"
    fast = run_viewport(bbox, **params)
    scanned = run_viewport(bbox, use_summary=False, **params)
    assert fast["clustered"] is True
    assert fast["total"] == scanned["total"] == true_count(bbox, params.get("category", ()))
    assert sum(f["properties"]["count"] for f in fast["features"]) == fast["total"]
    fast_cells, scanned_cells = cells_of(fast), cells_of(scanned)
    assert fast_cells.keys() == scanned_cells.keys()
    for key, (count, (lon, lat)) in fast_cells.items():
        assert count == scanned_cells[key][0]
        assert lon == pytest.approx(scanned_cells[key][1][0], abs=2e-6)
        assert lat == pytest.approx(scanned_cells[key][1][1], abs=2e-6)
    return fast


@pytest.fixture
def scattered(user):
    """60 approved places over Europe, some on the bbox's edges and cell edges, plus
    pending/rejected ones and places outside."""
    rng = random.Random(7)
    places = [
        LocationFactory(
            submitter=user,
            approved=True,
            category=rng.choice(["museum", "park", "cafe"]),
            point=Point(rng.uniform(-11.3, 31.7), rng.uniform(35.2, 61.1), srid=4326),
        )
        for _ in range(60)
    ]
    # On the viewport's edges (inside, the bbox is inclusive) and on summary-cell edges.
    for lon, lat in [
        (-11.3, 40.0),
        (31.7, 50.0),
        (10.0, 35.2),
        (5.0, 61.1),
        (0.0, 45.0),
        (22.5, 45.0),
    ]:
        places.append(
            LocationFactory(submitter=user, approved=True, point=Point(lon, lat, srid=4326))
        )
    LocationFactory(submitter=user, status="pending", point=Point(10.0, 50.0, srid=4326))
    LocationFactory(submitter=user, status="rejected", point=Point(10.0, 50.0, srid=4326))
    LocationFactory(submitter=user, approved=True, point=Point(-40.0, 50.0, srid=4326))
    return places


def test_zoomed_out_clusters_come_from_the_summary_and_add_up_to_the_true_total(scattered):
    body = assert_aggregate_matches_places(EUROPE)

    assert body["total"] == 66
    assert_summary_exact()


def test_the_viewport_really_reads_the_summary(scattered):
    # Tamper with one summary cell inside the bbox: only a reader of the summary sees it.
    cell = GridCell.objects.filter(level=6, cx__gte=0, cx__lt=4, cy__gte=7, cy__lt=10).first()
    assert cell is not None
    GridCell.objects.filter(pk=cell.pk).update(n=cell.n + 1000)

    assert run_viewport(EUROPE)["total"] == 66 + 1000
    assert run_viewport(EUROPE, use_summary=False)["total"] == 66


def test_the_plan_of_a_zoomed_out_viewport_reads_the_summary_table(scattered):
    sql, params = locations_viewport_sql(bbox=EUROPE, limit=LIMIT)
    with connection.cursor() as cursor:
        cursor.execute(f"EXPLAIN (ANALYZE, FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    plan = plan if isinstance(plan, list) else json.loads(plan)

    def nodes(node):
        yield node
        for child in node.get("Plans", []):
            yield from nodes(child)

    summary_nodes = [
        n for n in nodes(plan[0]["Plan"]) if n.get("Relation Name") == "locations_gridcell"
    ]
    assert summary_nodes, "the summary table is not in the plan"
    assert sum(n["Actual Rows"] * n["Actual Loops"] for n in summary_nodes) > 0


def test_counts_stay_exact_through_approvals_rejections_moves_edits_and_deletes(
    scattered, user, moderator
):
    pending = LocationFactory(submitter=user, status="pending", point=Point(3.0, 50.0, srid=4326))
    LocationFactory(submitter=user, approved=True, point=Point(12.0, 44.0, srid=4326))  # insert
    assert_aggregate_matches_places(EUROPE)

    location_transition(location_id=pending.id, to_status="approved", moderator=moderator)
    assert run_viewport(EUROPE)["total"] == 68
    location_transition(
        location_id=scattered[0].id,
        to_status="rejected",
        moderator=moderator,
        reason_code="spam",
        reason="Not a place",
    )
    assert_aggregate_matches_places(EUROPE)

    moved = scattered[1]
    moved.point = Point(moved.point.x + 7.3, moved.point.y - 2.1, srid=4326)
    moved.save(update_fields=["point"])
    nudged = scattered[2]  # a move inside its finest cell changes only the sums
    nudged.point = Point(nudged.point.x + 1e-5, nudged.point.y, srid=4326)
    nudged.save(update_fields=["point"])
    recategorised = scattered[3]
    recategorised.category = "monument"
    recategorised.save(update_fields=["category"])
    Location.objects.filter(pk__in=[p.pk for p in scattered[10:20]]).delete()
    Location.objects.filter(pk__in=[p.pk for p in scattered[20:30]]).update(name="Renamed")

    assert_aggregate_matches_places(EUROPE)
    assert_aggregate_matches_places(EUROPE, category=["museum", "monument"])
    assert recategorised.id in {p.id for p in Location.objects.filter(category="monument")}
    assert_summary_exact()


def test_cells_whose_places_are_all_gone_are_removed(user):
    LocationFactory(submitter=user, approved=True, point=Point(100.0, 10.0, srid=4326))
    assert GridCell.objects.count() == 7  # one cell per level

    Location.objects.all().delete()

    assert GridCell.objects.count() == 0


def test_a_bulk_insert_in_one_statement_keeps_the_summary_exact(scattered, user):
    rng = random.Random(11)
    Location.objects.bulk_create(
        LocationFactory.build(
            submitter=user,
            approved=True,
            point=Point(rng.uniform(-11.3, 31.7), rng.uniform(35.2, 61.1), srid=4326),
        )
        for _ in range(2000)
    )

    body = assert_aggregate_matches_places(EUROPE)
    assert body["total"] == 66 + 2000
    assert_summary_exact()


def test_an_import_upsert_keeps_the_summary_exact(scattered, tmp_path):
    header = "external_id,name,description,category,address,longitude,latitude\n"
    first = tmp_path / "first.csv"
    first.write_text(
        header
        + "".join(f"k{n},Imported {n},,park,,{-5 + n * 0.3},{40 + n * 0.2}\n" for n in range(80))
    )
    imports.locations_import(path=first, status=LocationStatus.APPROVED, batch_size=30)
    assert_aggregate_matches_places(EUROPE)

    # Re-import: half the rows move (ON CONFLICT DO UPDATE), one moves out of the bbox.
    second = tmp_path / "second.csv"
    second.write_text(
        header
        + "".join(f"k{n},Imported {n},,park,,{5 + n * 0.3},{40 + n * 0.2}\n" for n in range(40))
        + "k79,Imported 79,,park,,-60,10\n"
    )
    report = imports.locations_import(path=second, status=LocationStatus.APPROVED)

    assert report.updated == 41
    body = assert_aggregate_matches_places(EUROPE)
    assert body["total"] == 66 + 79
    assert_summary_exact()


def test_an_antimeridian_viewport_reads_the_summary_on_both_sides(user):
    rng = random.Random(3)
    for _ in range(30):
        LocationFactory(
            submitter=user,
            approved=True,
            point=Point(rng.uniform(150, 180), rng.uniform(-60, 20), srid=4326),
        )
        LocationFactory(
            submitter=user,
            approved=True,
            point=Point(rng.uniform(-180, -150), rng.uniform(-60, 20), srid=4326),
        )
    LocationFactory(submitter=user, approved=True, point=Point(180.0, 0.0, srid=4326))
    LocationFactory(submitter=user, approved=True, point=Point(-180.0, 0.0, srid=4326))
    LocationFactory(submitter=user, approved=True, point=Point(0.0, 0.0, srid=4326))

    body = assert_aggregate_matches_places((145.0, -61.0, -145.0, 21.0))

    assert body["total"] == 62
    for feature in body["features"]:  # no cluster mixes the two sides
        west, _, east, _ = feature["properties"]["bbox"]
        assert (west >= 0) == (east >= 0) or east == 180


def test_the_category_filter_counts_from_the_summary(scattered):
    body = assert_aggregate_matches_places(EUROPE, category=["museum", "park"])

    assert body["total"] == true_count(EUROPE, ["museum", "park"])
    assert 0 < body["total"] < 66


def test_a_text_filter_counts_the_matching_places_instead(scattered):
    plan = viewport_summary_plan(viewport=Viewport(*EUROPE), cell=5.625, q="museum")

    assert plan is None


def test_a_district_viewport_counts_its_places_below_the_finest_level():
    view = Viewport(13.40, 52.50, 13.45, 52.53)
    cell = cluster_cell_size(viewport=view, zoom=17, limit=500)

    assert viewport_summary_plan(viewport=view, cell=cell) is None


def test_a_truncate_empties_the_summary(scattered):
    with connection.cursor() as cursor:
        # The test's transaction holds deferred FK checks, which TRUNCATE refuses.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute("TRUNCATE locations_location CASCADE")

    assert GridCell.objects.count() == 0


def test_the_api_answers_a_world_view_from_the_summary(api_client, scattered):
    body = api_client.get(
        f"{API}/locations/viewport", {"bbox": "-180,-85,180,85", "limit": 20}
    ).json()

    assert body["clustered"] is True
    assert body["total"] == 67
    assert sum(f["properties"]["count"] for f in body["features"]) == 67


def test_the_migrations_backfill_rebuilds_the_same_summary(scattered):
    backfill = importlib.import_module("locations.migrations.0002_gridcell").BACKFILL
    GridCell.objects.all().delete()

    with connection.cursor() as cursor:
        cursor.execute(backfill)

    assert_summary_exact()
    assert run_viewport(EUROPE)["total"] == 66


def _insert_approved(cursor, lon: float, lat: float) -> str:
    cursor.execute(
        """INSERT INTO locations_location
               (id, name, description, category, address, point, status,
                created_at, updated_at, approved_at)
           VALUES (gen_random_uuid(), 'Concurrent', '', 'park', '',
                   ST_SetSRID(ST_MakePoint(%s, %s), 4326), 'approved', now(), now(), now())
           RETURNING id""",
        (lon, lat),
    )
    return cursor.fetchone()[0]


def _add_and_commit(params: dict, lon: float, lat: float) -> None:
    with psycopg.connect(**params) as adder:
        _insert_approved(adder.cursor(), lon, lat)
        adder.commit()


@pytest.mark.django_db(transaction=True)
def test_concurrent_writers_to_one_cell_keep_it_exact():
    """One writer empties a cell (its row is deleted) while two others add to it: they
    wait for its row lock, then one inserts the cell afresh and the other adds to it."""
    dsn = connection.settings_dict
    params = {
        "host": dsn["HOST"],
        "port": dsn["PORT"],
        "user": dsn["USER"],
        "password": dsn["PASSWORD"],
        "dbname": dsn["NAME"],
    }
    with psycopg.connect(**params, autocommit=True) as setup:
        only = _insert_approved(setup.cursor(), 100.001, 10.001)
    with psycopg.connect(**params) as remover, ThreadPoolExecutor(max_workers=2) as pool:
        remover.execute("DELETE FROM locations_location WHERE id = %s", (only,))
        adders = [
            pool.submit(_add_and_commit, params, 100.0015, 10.0015),
            pool.submit(_add_and_commit, params, 100.002, 10.002),
        ]
        time.sleep(0.5)
        assert not any(adder.done() for adder in adders)  # waiting for the remover's cells
        remover.commit()
        for adder in adders:
            adder.result(timeout=20)

    assert_summary_exact()
    finest = GridCell.objects.get(level=16, cx=math.floor(100.002 / (360 / 2**16)))
    assert finest.n == 2


def test_the_triggers_drift_check_is_an_index_probe_even_without_statistics():
    # The check the fold function runs after every statement on places (migration 0015).
    check = importlib.import_module("locations.migrations.0015_gridcell_fold_check_by_index")
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_get_functiondef('locations_gridcell_fold'::regproc)")
        assert check.NEW_CHECK in cursor.fetchone()[0]
        # A grid table of 20,000 cells written by this transaction, so not in its
        # statistics (as in a bulk import): 0003's EXISTS (... WHERE n < 0) was planned
        # as a scan of the whole table there whenever n had no statistics.
        cursor.execute(
            "INSERT INTO locations_gridcell (level, cx, cy, category, n, sum_lon, sum_lat)"
            " SELECT 16, g, g, 'park', 1, 0, 0 FROM generate_series(1, 20000) g"
        )
        cursor.execute("EXPLAIN SELECT (SELECT min(n) FROM locations_gridcell WHERE n <= 0) < 0")
        plan = " ".join(row[0] for row in cursor.fetchall())
    assert "Index Only Scan using gridcell_not_positive" in plan
    assert "Seq Scan" not in plan


def test_a_negative_cell_still_refuses_the_next_write(user):
    LocationFactory(status=LocationStatus.APPROVED, point=Point(2.35, 48.85, srid=4326))
    with connection.cursor() as cursor:
        # Drift: a cell the next write does not touch goes negative.
        cursor.execute("UPDATE locations_gridcell SET n = -1 WHERE level = 4")
        assert cursor.rowcount == 1

    with pytest.raises(Exception, match="locations_gridcell out of step"):
        LocationFactory(status=LocationStatus.APPROVED, point=Point(-70.6, -33.4, srid=4326))


def _grid_scans() -> int:
    """Scans (sequential + index) of the grid table in this transaction so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT seq_scan + COALESCE(idx_scan, 0) FROM pg_stat_xact_user_tables"
            " WHERE relid = 'locations_gridcell'::regclass"
        )
        return cursor.fetchone()[0]


def test_a_statement_that_changes_no_cell_leaves_the_summary_unread():
    # Migration 0016: the fold returns right after an upsert that wrote no cell.
    place = LocationFactory(status=LocationStatus.APPROVED, point=Point(2.35, 48.85, srid=4326))
    cells = {(c.level, c.cx, c.cy, c.category, c.n) for c in GridCell.objects.all()}
    before = _grid_scans()

    # A new name only (the UPDATE trigger's delta is empty) ...
    Location.objects.filter(pk=place.pk).update(name="Renamed place")
    # ... and an import-style upsert of a pending place that conflicts with nothing, which
    # fires both the INSERT and the UPDATE triggers, each with nothing to fold.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO locations_location AS l (id, name, description, category, address,
                point, status, external_id, created_at, updated_at, version)
            VALUES (gen_random_uuid(), 'Pending one', '', 'park', '',
                    ST_SetSRID(ST_MakePoint(1, 1), 4326), 'pending', 'x-1', now(), now(), 1)
            ON CONFLICT (external_id) DO UPDATE SET name = EXCLUDED.name
            """
        )

    assert _grid_scans() == before
    assert {(c.level, c.cx, c.cy, c.category, c.n) for c in GridCell.objects.all()} == cells
    # A statement that does move a place still folds and checks.
    Location.objects.filter(pk=place.pk).update(point=Point(-70.6, -33.4, srid=4326))
    assert _grid_scans() > before
    assert GridCell.objects.filter(level=4, n=1).count() == 1
