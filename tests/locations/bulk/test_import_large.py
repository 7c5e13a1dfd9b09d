"""A large import (docs/import-export.md "Large imports") turns the grid-summary triggers
off for its merge and computes the summary once afterwards, and drops the merged tables'
foreign keys and adds them back (one validation each) instead of a check per row."""

import math
from collections import Counter
from pathlib import Path

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from locations import imports
from locations.models import GRID_LEVELS, Location, LocationStatus
from tests.locations.factories import LocationFactory
from tests.support import fail_inserts_of

CSV_HEADER = "external_id,name,description,category,address,longitude,latitude\n"
TABLES = ("locations_location", "locations_historicallocation", "locations_locationrevision")
LARGE = 20  # IMPORT_REBUILD_INDEXES_MIN_ROWS in these tests


class _Undo(Exception):
    pass


def _grid() -> dict[tuple[int, int, int, str], tuple[int, float, float]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT level, cx, cy, category, n, sum_lon, sum_lat FROM locations_gridcell"
        )
        return {tuple(row[:4]): tuple(row[4:]) for row in cursor.fetchall()}


def _grid_from_scratch() -> dict[tuple[int, int, int, str], tuple[int, float, float]]:
    """The summary computed in Python from the approved places (migration 0003's cell
    number: floor(x / size), 0 or -1 for |x| < 1e-300)."""

    def cell(x: float, size: float) -> int:
        if abs(x) >= 1e-300:
            return math.floor(x / size)
        return -1 if x < 0 else 0

    cells: dict = {}
    for place in Location.objects.filter(status=LocationStatus.APPROVED):
        x, y = place.point.x, place.point.y
        for level in GRID_LEVELS:
            size = 360.0 / (1 << level)
            key = (level, cell(x, size), cell(y, size), place.category)
            n, sx, sy = cells.get(key, (0, 0.0, 0.0))
            cells[key] = (n + 1, sx + x, sy + y)
    return cells


def _assert_same_summary(got: dict, want: dict) -> None:
    # The same cells with the same counts; the float sums up to their order of addition.
    assert sorted(got) == sorted(want)
    assert {key: value[0] for key, value in got.items()} == {
        key: value[0] for key, value in want.items()
    }
    for key, (_n, sum_lon, sum_lat) in got.items():
        assert sum_lon == pytest.approx(want[key][1], rel=1e-12, abs=1e-9), key
        assert sum_lat == pytest.approx(want[key][2], rel=1e-12, abs=1e-9), key


def _existing_places() -> None:
    """Places already there: ten approved, five pending, each with an external id."""
    from django.contrib.gis.geos import Point

    for n in range(15):
        LocationFactory(
            external_id=f"e{n}",
            name=f"Existing {n}",
            description=f"Text {n}",
            category="park",
            point=Point(10.0 + n * 0.37, 50.0 - n * 0.21, srid=4326),
            **({"approved": True} if n < 10 else {}),
        )


def _import_file(tmp_path: Path) -> Path:
    """Moves, recategorises and renames existing places, updates pending ones, adds 30."""
    rows = []
    for n in range(3):  # moved to another cell (and another hemisphere for e0)
        rows.append(f"e{n},Existing {n},Text {n},park,,{-70.0 + n},{-30.0 + n}")
    for n in (3, 4):  # same point, another category
        rows.append(f"e{n},Existing {n},Text {n},cafe,,{10.0 + n * 0.37},{50.0 - n * 0.21}")
    for n in (5, 6):  # renamed only: same cells
        rows.append(f"e{n},Renamed {n},Text {n},park,,{10.0 + n * 0.37},{50.0 - n * 0.21}")
    for n in range(10, 15):  # pending places moved: still pending, never in the summary
        rows.append(f"e{n},Existing {n},Text {n},park,,{n},{-n}")
    for n in range(30):  # new places, some near 0 and on cell edges
        lon = [0.0, -1e-310, 1e-310, -180.0, 180.0, 22.5][n % 6] if n < 6 else -179.5 + n * 11.3
        lat = [0.0, -1e-310, 1e-310, -90.0, 90.0, -22.5][n % 6] if n < 6 else -85.0 + n * 5.7
        rows.append(f"n{n},New {n},,{['park', 'cafe', 'museum'][n % 3]},,{lon!r},{lat!r}")
    path = tmp_path / "large.csv"
    path.write_text(CSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _triggers() -> list[tuple[str, str]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgname, tgenabled FROM pg_trigger"
            " WHERE tgrelid = 'locations_location'::regclass AND NOT tgisinternal ORDER BY 1"
        )
        return cursor.fetchall()


def _foreign_keys() -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid),
                   condeferrable, condeferred, convalidated
            FROM pg_constraint
            WHERE conrelid = ANY(%s::regclass[]) AND contype = 'f' ORDER BY 1, 2
            """,
            [list(TABLES)],
        )
        return cursor.fetchall()


def _xact_stats(table: str) -> tuple[int, int]:
    """This transaction's inserts and scans (sequential + index) of `table` so far."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT n_tup_ins, seq_scan + COALESCE(idx_scan, 0) FROM pg_stat_xact_user_tables"
            " WHERE relid = %s::regclass",
            [table],
        )
        inserted, scans = cursor.fetchone()
        return inserted, scans


def test_the_summary_after_a_large_import_is_the_one_the_triggers_give(db, tmp_path, settings):
    _existing_places()
    path = _import_file(tmp_path)

    # The ordinary path, where the triggers fold every batch, for comparison (undone).
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = 10**9
    with pytest.raises(_Undo), transaction.atomic():
        ordinary = imports.locations_import(path=path, status="approved", batch_size=7)
        assert ordinary.indexes_rebuilt == 0
        by_triggers = _grid()
        raise _Undo

    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE
    large = imports.locations_import(path=path, status="approved", batch_size=7)

    assert large.indexes_rebuilt > 0
    assert (large.created, large.updated) == (ordinary.created, ordinary.updated) == (30, 12)
    after = _grid()
    _assert_same_summary(after, by_triggers)
    _assert_same_summary(after, _grid_from_scratch())
    # Untouched, moved, recategorised and pending places are all accounted for.
    level4 = Counter()
    for (level, _cx, _cy, category), (n, _x, _y) in after.items():
        if level == GRID_LEVELS[0]:
            level4[category] += n
    assert level4 == {"park": 8 + 10, "cafe": 2 + 10, "museum": 10}


def test_a_large_import_writes_each_cell_once(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE
    inserted_before, _scans = _xact_stats("locations_gridcell")

    imports.locations_import(path=_import_file(tmp_path), status="approved", batch_size=7)

    # Seven batches with the triggers on would have folded seven times (and the cells
    # been inserted again by the recomputation); off, each cell is inserted once.
    inserted, _scans = _xact_stats("locations_gridcell")
    assert inserted - inserted_before == len(_grid()) > 0


def test_the_grid_triggers_are_on_again_after_a_large_import(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE
    before = _triggers()
    assert before and all(enabled == "O" for _name, enabled in before)

    imports.locations_import(path=_import_file(tmp_path), status="approved")

    assert _triggers() == before
    # And they fold the next write: a place approved afterwards is counted.
    cells = _grid()
    LocationFactory(approved=True, category="bar")
    assert sum(n for (lv, *_rest, c), (n, *_s) in _grid().items() if c == "bar" and lv == 4) == 1
    assert len(_grid()) == len(cells) + len(GRID_LEVELS)


def test_a_large_import_failing_after_the_merge_leaves_summary_triggers_and_keys(
    db, tmp_path, settings
):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE
    _existing_places()
    with connection.cursor() as cursor:
        # A revision pointing at no user, written while the foreign keys are off: the
        # constraint added back after the merge refuses it, so the import fails at its
        # very end (after the summary was recomputed and the indexes rebuilt).
        cursor.execute(
            """
            CREATE FUNCTION pg_temp.orphan() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.name = 'New 29' THEN NEW.author_id := -1; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER orphan BEFORE INSERT ON locations_locationrevision
                FOR EACH ROW EXECUTE FUNCTION pg_temp.orphan();
            """
        )

    grid, triggers, foreign_keys = _grid(), _triggers(), _foreign_keys()
    places = sorted(Location.objects.values_list("external_id", "name", "category"))

    with pytest.raises(IntegrityError, match="author_id"):
        imports.locations_import(path=_import_file(tmp_path), status="approved", batch_size=7)

    assert sorted(Location.objects.values_list("external_id", "name", "category")) == places
    assert _grid() == grid
    assert _triggers() == triggers
    assert _foreign_keys() == foreign_keys


def test_a_large_import_failing_in_the_merge_turns_the_triggers_back_on(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE
    fail_inserts_of("locations_location", name="New 20")

    triggers, foreign_keys = _triggers(), _foreign_keys()

    with pytest.raises(DatabaseError, match="disk full, say"):
        imports.locations_import(path=_import_file(tmp_path), status="approved", batch_size=7)

    assert _triggers() == triggers
    assert _foreign_keys() == foreign_keys
    assert not Location.objects.exists()
    assert _grid() == {}


def test_a_large_import_adds_back_identical_foreign_keys(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE
    before = _foreign_keys()
    # Every kind the tables have: deferred to commit (users, places) and immediate
    # (categories); all validated.
    assert {(deferrable, deferred) for *_x, deferrable, deferred, _v in before} == {
        (True, True),
        (False, False),
    }
    assert len(before) >= 9

    report = imports.locations_import(path=_import_file(tmp_path), status="approved")

    assert report.created == 42
    assert _foreign_keys() == before


def test_a_large_import_checks_each_foreign_key_once_not_per_row(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE
    _inserted, scans_before = _xact_stats("locations_category")

    report = imports.locations_import(path=_import_file(tmp_path), status="approved")

    # Per row, the category keys of the place and of its revision would read the
    # category table twice for each of the 42 rows written; added back, each key is
    # validated by one query (plus the import's one snapshot of the categories).
    _inserted, scans = _xact_stats("locations_category")
    assert report.created + report.updated == 42
    assert scans - scans_before <= 6
