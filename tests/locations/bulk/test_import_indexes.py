"""A large import drops the non-unique indexes of the tables it writes and rebuilds them
(locations.imports: _rebuild_indexes_wanted, docs/import-export.md "Large imports")."""

from pathlib import Path

import pytest
from django.db import DatabaseError, connection

from locations import imports
from locations.models import Location, LocationRevision
from tests.locations.factories import LocationFactory
from tests.support import fail_inserts_of

CSV_HEADER = "external_id,name,description,category,address,longitude,latitude\n"
TABLES = ("locations_location", "locations_historicallocation", "locations_locationrevision")


def _csv(tmp_path: Path, rows: int, *, prefix: str = "r") -> Path:
    path = tmp_path / f"{prefix}.csv"
    path.write_text(
        CSV_HEADER
        + "".join(
            f"{prefix}{n},Place {prefix}{n},Text {n},park,,{n % 170}.5,{n % 80}.25\n"
            for n in range(rows)
        ),
        encoding="utf-8",
    )
    return path


def _indexes() -> list[tuple[str, str, str, bool]]:
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT t.tablename, t.indexname, t.indexdef, i.indisvalid
            FROM pg_indexes t
            JOIN pg_index i ON i.indexrelid = format('%%I.%%I', t.schemaname, t.indexname)::regclass
            WHERE t.tablename = ANY(%s)
            ORDER BY 1, 2
            """,
            [list(TABLES)],
        )
        return cursor.fetchall()


def test_a_large_import_into_an_empty_table_rebuilds_identical_indexes(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = 50
    before = _indexes()

    report = imports.locations_import(path=_csv(tmp_path, 60), batch_size=25)

    # Every non-unique index of the three tables went and came back: names, definitions
    # (partial, expression, GiST, GIN, operator classes) and validity unchanged.
    assert report.indexes_rebuilt == sum(
        1 for _t, _n, definition, _v in before if "UNIQUE" not in definition
    )
    assert report.indexes_rebuilt >= 10
    assert _indexes() == before
    assert "Large import: " in report.summary()
    # And the rows are the ones the ordinary path writes.
    assert (report.created, Location.objects.count()) == (60, 60)
    assert Location.history.filter(history_type="+").count() == 60
    assert LocationRevision.objects.filter(source="import", version=1).count() == 60


def test_the_rebuilt_indexes_hold_every_row(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = 50
    imports.locations_import(path=_csv(tmp_path, 60), status="approved")

    with connection.cursor() as cursor:
        # Forced through the rebuilt GIN index: an index missing the inserted rows would
        # find none.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(
            "EXPLAIN SELECT count(*) FROM locations_location"
            " WHERE search_vector @@ to_tsquery('english', 'place')"
        )
        assert "location_search_gin" in " ".join(row[0] for row in cursor.fetchall())
        cursor.execute(
            "SELECT count(*) FROM locations_location"
            " WHERE search_vector @@ to_tsquery('english', 'place')"
        )
        assert cursor.fetchone()[0] == 60


def test_a_small_import_or_one_into_a_bigger_table_keeps_the_indexes(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = 50
    small = imports.locations_import(path=_csv(tmp_path, 49, prefix="s"))
    LocationFactory.create_batch(20)
    # 60 rows against 69 already there: not larger than the table.
    into_bigger = imports.locations_import(path=_csv(tmp_path, 60, prefix="b"))

    assert (small.indexes_rebuilt, small.created) == (0, 49)
    assert (into_bigger.indexes_rebuilt, into_bigger.created) == (0, 60)
    assert "Large import" not in into_bigger.summary()


def test_a_large_dry_run_drops_nothing(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = 50
    before = _indexes()

    report = imports.locations_import(path=_csv(tmp_path, 60), dry_run=True)

    assert (report.created, report.indexes_rebuilt) == (60, 0)
    assert _indexes() == before


def test_an_import_failing_after_the_drops_leaves_every_index_and_no_row(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = 50
    before = _indexes()
    # A real failure in the middle of the merge (the third batch), raised by
    # PostgreSQL after the indexes were dropped and two batches were written.
    fail_inserts_of("locations_locationrevision", name="Place r55")

    with pytest.raises(DatabaseError, match="disk full, say"):
        imports.locations_import(path=_csv(tmp_path, 60), batch_size=25)

    assert _indexes() == before
    assert not Location.objects.exists()
    assert not Location.history.exists()
