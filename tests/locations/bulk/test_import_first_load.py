"""A large import into an empty places table (a first load) inserts without ON CONFLICT
(locations.imports._INSERT_BATCH; docs/import-export.md "Large imports") and writes
exactly the rows the ordinary merge writes."""

from pathlib import Path

from django.db import connection, transaction

from locations import imports
from locations.models import Location, LocationRevision
from tests.locations.factories import LocationFactory

CSV_HEADER = "external_id,name,description,category,address,longitude,latitude\n"
LARGE = 20  # IMPORT_REBUILD_INDEXES_MIN_ROWS in these tests


class _Undo(Exception):
    pass


def _csv(tmp_path: Path) -> Path:
    rows = [
        f"r{n},Place {n},Text {n} with words,{['park', 'cafe'][n % 2]},{n} Main St,"
        f"{-170 + n * 7.123456789},{-80 + n * 3.5}"
        for n in range(30)
    ]
    # Rows without any id (always inserted), unicode, empty optional fields.
    rows += [",Sans id one,,museum,,1.5,2.5", ",Sans id two,Ünïcødé text,museum,,1.5,2.5"]
    path = tmp_path / "first.csv"
    path.write_text(CSV_HEADER + "\n".join(rows) + "\n", encoding="utf-8")
    return path


def _written() -> dict[str, list]:
    """What an import wrote, without the values that differ by construction (random ids,
    the import's clock)."""
    places = sorted(
        Location.objects.values_list(
            "external_id", "name", "description", "category", "address", "status", "version"
        ),
        key=repr,
    )
    points = sorted((p.name, p.point.x, p.point.y) for p in Location.objects.all())
    history = sorted(
        Location.history.values_list(
            "external_id", "name", "description", "category", "history_type", "version"
        ),
        key=repr,
    )
    revisions = sorted(
        (r.name, r.base_version, r.version, r.status, r.source, r.changes, r.location.name)
        for r in LocationRevision.objects.select_related("location")
    )
    return {"places": places, "points": points, "history": history, "revisions": revisions}


def _statements(run) -> list[str]:
    seen: list[str] = []

    def record(execute, sql, params, many, context):
        seen.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return seen


def test_a_first_load_writes_what_the_ordinary_merge_writes(db, tmp_path, settings):
    path = _csv(tmp_path)
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = 10_000  # the ordinary merge
    try:
        with transaction.atomic():
            ordinary = imports.locations_import(path=path, status="approved", batch_size=7)
            ordinary_rows = _written()
            raise _Undo
    except _Undo:
        pass
    assert not Location.objects.exists()

    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE
    first_load = imports.locations_import(path=path, status="approved", batch_size=7)

    assert first_load.indexes_rebuilt > 0 and ordinary.indexes_rebuilt == 0
    assert (ordinary.created, ordinary.updated) == (32, 0)
    assert (first_load.created, first_load.updated) == (32, 0)
    assert _written() == ordinary_rows
    assert len(ordinary_rows["revisions"]) == len(ordinary_rows["history"]) == 32


def test_a_first_load_inserts_without_on_conflict(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE

    statements = _statements(
        lambda: imports.locations_import(path=_csv(tmp_path), status="approved", batch_size=7)
    )

    merges = [sql for sql in statements if "INSERT INTO locations_location" in sql]
    assert len(merges) == 5  # 32 rows in batches of 7
    assert not any("ON CONFLICT" in sql for sql in merges)


def test_a_large_import_into_a_table_with_places_still_upserts(db, tmp_path, settings):
    settings.IMPORT_REBUILD_INDEXES_MIN_ROWS = LARGE
    LocationFactory(external_id="r3", name="Before", category="park", approved=True)

    reports = []
    statements = _statements(
        lambda: reports.append(
            imports.locations_import(path=_csv(tmp_path), status="approved", batch_size=7)
        )
    )

    merges = [sql for sql in statements if "INSERT INTO locations_location" in sql]
    assert merges and all("ON CONFLICT" in sql for sql in merges)
    assert (reports[0].created, reports[0].updated) == (31, 1)
    place = Location.objects.get(external_id="r3")
    assert (place.name, place.version) == ("Place 3", 2)
