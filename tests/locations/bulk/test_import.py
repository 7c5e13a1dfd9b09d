import csv
import io
import json
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from locations import imports
from locations.models import Location, LocationStatus
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory

CSV_HEADER = "external_id,name,description,category,address,longitude,latitude\n"


def _write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _feature(number, *, name="Good place", category="park", geometry=None, **properties):
    return {
        "type": "Feature",
        "id": f"f-{number}",
        "geometry": geometry or {"type": "Point", "coordinates": [2.35, 48.85]},
        "properties": {"name": name, "category": category, **properties},
    }


def _geojson(tmp_path: Path, features, name="places.geojson") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps({"type": "FeatureCollection", "features": features}))
    return path


def _snapshot() -> dict:
    return {
        row["external_id"]: row
        for row in Location.objects.values(
            "id", "external_id", "name", "description", "category", "address", "updated_at"
        )
    }


def test_a_csv_dry_run_names_the_exact_bad_rows_and_writes_nothing(db, tmp_path):
    path = _write(
        tmp_path,
        "places.csv",
        CSV_HEADER
        + "a1,Good park,Fine,park,,13.4,52.5\n"  # line 2
        + "a2,Bad latitude,,park,,13.4,95\n"  # line 3
        + "a3,,,park,,13.4,52.5\n"  # line 4: no name
        + "a4,Good cafe,,spaceport,,13.4,52.5\n"  # line 5: unknown category
        + "a5,Not a number,,cafe,,east,52.5\n"  # line 6
        + f"a6,{'x' * 121},,cafe,,13.4,52.5\n"  # line 7: overlong name
        + '"a7","Two\nline description park",,park,,13.4,52.5\n'  # lines 8-9: fine
        + f"{'e' * 201},Long id,,park,,1,1\n"  # line 10: overlong external id
        + "a9,Too few columns\n"  # line 11
        + "a1,Duplicate of line 2,,park,,1,1\n"  # line 12
        + ",No id at all,,bar,,-0.1,51.5\n",  # line 13: fine, no id
    )

    report = imports.locations_import(path=path, dry_run=True)

    assert [(bad.unit, bad.number, sorted(bad.errors)) for bad in report.bad_rows] == [
        ("line", 3, ["latitude"]),
        ("line", 4, ["name"]),
        ("line", 5, ["category"]),
        ("line", 6, ["longitude"]),
        ("line", 7, ["name"]),
        ("line", 10, ["external_id"]),
        ("line", 11, ["row"]),
        ("line", 12, ["external_id"]),
    ]
    assert "less than or equal to 90" in str(report.bad_rows[0])
    assert "already appears in line 2" in str(report.bad_rows[-1])
    assert (report.rows_read, report.rows_valid, report.bad_row_count) == (11, 3, 8)
    assert (report.created, report.updated, report.unchanged) == (3, 0, 0)
    assert report.rows_without_external_id == 1
    assert not Location.objects.exists()


def test_a_geojson_dry_run_names_the_exact_bad_features(db, tmp_path):
    path = _geojson(
        tmp_path,
        [
            _feature(1),
            _feature(2, geometry={"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [0, 0]]]}),
            _feature(3, geometry={"type": "Point", "coordinates": [200, 10]}),
            _feature(4, name=None),
            {"type": "Feature", "id": "f-5", "geometry": None, "properties": {}},
            _feature(6, geometry={"type": "Point", "coordinates": ["2.35", True]}),
            _feature(7, description="d" * 5001),
            "not a feature",
            _feature(9, geometry={"type": "Point", "coordinates": [2.35, 48.85, 35.0]}),
        ],
    )

    report = imports.locations_import(path=path, dry_run=True)

    assert [(bad.unit, bad.number, sorted(bad.errors)) for bad in report.bad_rows] == [
        ("feature", 2, ["geometry"]),
        ("feature", 3, ["longitude"]),
        ("feature", 4, ["name"]),
        ("feature", 5, ["geometry"]),
        ("feature", 6, ["latitude"]),
        ("feature", 7, ["description"]),
        ("feature", 8, ["type"]),
    ]
    assert "Only Point geometries" in str(report.bad_rows[0])
    assert (report.rows_valid, report.created) == (2, 2)
    assert not Location.objects.exists()


def test_a_reimport_is_idempotent(db, tmp_path):
    features = [_feature(n, name=f"Place {n}", description="Same as before") for n in range(50)]
    path = _geojson(tmp_path, features)

    first = imports.locations_import(path=path)
    before = _snapshot()
    again = imports.locations_import(path=path, batch_size=7)

    assert (first.created, first.updated) == (50, 0)
    assert (again.created, again.updated, again.unchanged) == (0, 0, 50)
    assert Location.objects.count() == 50
    # Not even rewritten: same ids, same updated_at.
    assert _snapshot() == before


def test_a_reimport_updates_changed_rows_in_place(db, tmp_path):
    path = _write(tmp_path, "v1.csv", CSV_HEADER + "k1,Old name,,park,,1,1\nk2,Other,,park,,2,2\n")
    imports.locations_import(path=path)
    before = _snapshot()

    changed = _write(
        tmp_path, "v2.csv", CSV_HEADER + "k1,New name,,cafe,,1.5,1\nk2,Other,,park,,2,2\n"
    )
    report = imports.locations_import(path=changed)

    assert (report.created, report.updated, report.unchanged) == (0, 1, 1)
    place = Location.objects.get(external_id="k1")
    assert place.pk == before["k1"]["id"]
    assert (place.name, place.category, place.point.x) == ("New name", "cafe", 1.5)
    assert Location.objects.get(external_id="k2").updated_at == before["k2"]["updated_at"]


def test_imported_places_have_no_submitter_and_the_requested_status(db, tmp_path):
    path = _write(tmp_path, "p.csv", CSV_HEADER + "s1,Approved one,,park,,1,1\n")

    imports.locations_import(path=path, status=LocationStatus.APPROVED)

    place = Location.objects.get(external_id="s1")
    assert place.submitter_id is None
    assert place.status == LocationStatus.APPROVED
    assert place.approved_at is not None


def test_the_audit_trail_names_the_importer_given_to_the_command(db, tmp_path):
    path = _write(tmp_path, "p.csv", CSV_HEADER + "u1,Named importer,,park,,1,1\n")
    operator = UserFactory(username="ops")

    call_command(
        "import_locations", str(path), "--user", "ops", "--no-progress", stdout=io.StringIO()
    )

    (row,) = Location.history.filter(external_id="u1")
    assert (row.history_user_id, row.history_change_reason) == (operator.pk, "import")
    with pytest.raises(CommandError, match="No such user: nobody"):
        call_command("import_locations", str(path), "--user", "nobody", stdout=io.StringIO())
    # Without --user nobody is named.
    other = _write(tmp_path, "q.csv", CSV_HEADER + "u2,Nobody named,,park,,1,1\n")
    imports.locations_import(path=other)
    assert Location.history.get(external_id="u2").history_user_id is None


def test_a_reimport_keeps_a_moderators_decision(db, tmp_path):
    LocationFactory(external_id="m1", status=LocationStatus.REJECTED, name="Was rejected")
    path = _write(tmp_path, "p.csv", CSV_HEADER + "m1,Renamed,,park,,1,1\n")

    report = imports.locations_import(path=path, status=LocationStatus.APPROVED)

    place = Location.objects.get(external_id="m1")
    assert report.updated == 1
    assert (place.name, place.status, place.approved_at) == ("Renamed", "rejected", None)


def test_abort_on_the_first_bad_row_writes_nothing(db, tmp_path):
    rows = "".join(f"ok{n},Place {n},,park,,1,1\n" for n in range(20))
    path = _write(tmp_path, "p.csv", CSV_HEADER + rows + "bad,Broken,,park,,1,-91\n")

    with pytest.raises(imports.ImportAborted) as aborted:
        imports.locations_import(path=path, on_error=imports.ON_ERROR_ABORT, batch_size=5)

    assert str(aborted.value.report.bad_rows[-1]).startswith("line 22: latitude")
    assert not Location.objects.exists()
    # The temporary table went with the rolled-back transaction: a new import works.
    imports.locations_import(path=_write(tmp_path, "ok.csv", CSV_HEADER + "z,Fine one,,bar,,0,0\n"))
    assert Location.objects.count() == 1


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("a.csv", "name,category\nX place,park\n", "lacks the column(s) longitude, latitude"),
        ("a.csv", b"name,category,longitude,latitude\n\xff\xfe,park,1,1\n", "not UTF-8"),
        ("a.geojson", '{"type": "FeatureCollection", "bbox": [0, 0, 1, 1]}', "no 'features' array"),
        ("a.geojson", '{"type": "Feature", "geometry": null}', "got type 'Feature'"),
        ("a.geojson", '{"type": "Topology", "features": []}', "got type 'Topology'"),
        ("a.geojson", "[1, 2]", "Expected a GeoJSON FeatureCollection"),
        (
            "a.geojson",
            '{"type": "FeatureCollection", "features": [{"type": "Feature"}, {"type": ',
            "Not valid JSON after feature 1",
        ),
    ],
)
def test_an_unreadable_file_is_refused_and_nothing_is_written(db, tmp_path, name, content, message):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)

    with pytest.raises(
        imports.ImportFileError, match=message.replace("(", r"\(").replace(")", r"\)")
    ):
        imports.locations_import(path=path)

    assert not Location.objects.exists()


def test_an_export_reimports_without_changing_anything(ten_thousand_places, tmp_path):
    out = tmp_path / "export.csv"
    call_command("export_locations", "--format", "csv", "-o", str(out), "--no-progress")
    geo = tmp_path / "export.geojson"
    call_command("export_locations", "-o", str(geo), "--no-progress")
    before = _snapshot()

    from_csv = imports.locations_import(path=out)
    from_geojson = imports.locations_import(path=geo)

    assert (from_csv.rows_valid, from_csv.unchanged, from_csv.bad_row_count) == (10_000, 10_000, 0)
    assert (from_geojson.unchanged, from_geojson.bad_row_count) == (10_000, 0)
    assert _snapshot() == before


def test_a_csv_with_a_bom_and_an_id_column_uses_the_id_as_external_id(db, tmp_path):
    path = tmp_path / "excel.csv"
    path.write_bytes(
        "\ufeffid,name,category,longitude,latitude\r\n77,Excel place,cafe,3,4\r\n".encode()
    )

    imports.locations_import(path=path)
    imports.locations_import(path=path)

    assert list(Location.objects.values_list("external_id", "name")) == [("77", "Excel place")]


# --- manage.py import_locations -------------------------------------------------------


def test_the_import_command_prints_each_bad_row_and_a_summary(db, tmp_path):
    path = _write(tmp_path, "p.csv", CSV_HEADER + "a,Fine place,,park,,1,1\nb,Bad one,,park,,1,x\n")
    out, err = io.StringIO(), io.StringIO()

    with pytest.raises(CommandError, match="1 bad row"):
        call_command("import_locations", str(path), "--dry-run", stdout=out, stderr=err)

    lines = out.getvalue().splitlines()
    assert lines[0] == "bad row: line 3: latitude: A valid number is required."
    assert lines[1] == (
        "Rows: 2 read, 1 valid, 1 bad. Places: 1 to create, 0 to update, 0 unchanged;"
        " new places would be pending. Dry run: nothing was written."
    )
    assert "validate" in err.getvalue()  # the progress bar goes to stderr
    assert not Location.objects.exists()


def test_the_import_command_fails_with_a_non_zero_exit_on_abort(db, tmp_path):
    path = _write(tmp_path, "p.csv", CSV_HEADER + "a,Fine place,,park,,1,1\nb,,,park,,1,1\n")

    # call_command raises what manage.py turns into exit status 1.
    with pytest.raises(CommandError, match="Aborted at line 3: name"):
        call_command(
            "import_locations",
            str(path),
            "--on-error",
            "abort",
            "--no-progress",
            stdout=io.StringIO(),
        )

    assert not Location.objects.exists()


def test_the_import_command_imports_geojson_as_approved(db, tmp_path):
    path = _geojson(tmp_path, [_feature(n, name=f"Place {n}") for n in range(3)], name="x.json")

    call_command(
        "import_locations", str(path), "--status", "approved", "--no-progress", stdout=io.StringIO()
    )

    assert sorted(Location.objects.values_list("external_id", "status")) == [
        ("f-0", "approved"),
        ("f-1", "approved"),
        ("f-2", "approved"),
    ]


def test_the_import_leaves_no_temporary_table_behind(db, tmp_path):
    imports.locations_import(
        path=_write(tmp_path, "p.csv", CSV_HEADER + "a,Fine place,,park,,1,1\n")
    )

    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('pg_temp.placemap_import_rows')")
        assert cursor.fetchone()[0] is None


def test_rows_read_from_csv_keep_their_text_exactly(db, tmp_path):
    path = tmp_path / "p.csv"
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["external_id", "name", "description", "category", "longitude", "latitude"])
        writer.writerow(["t1", "'=SUM(A1)", 'multi\nline, "quoted"', "park", "1", "1"])

    imports.locations_import(path=path)

    place = Location.objects.get(external_id="t1")
    # The apostrophe an export adds before a formula-like cell is taken off again.
    assert (place.name, place.description) == ("=SUM(A1)", 'multi\nline, "quoted"')


def _import_peak(path: Path) -> int:
    import tracemalloc

    tracemalloc.start()
    try:
        report = imports.locations_import(path=path, dry_run=True)
        assert report.bad_row_count == 0
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def _places_file(tmp_path: Path, fmt: str, rows: int) -> Path:
    if fmt == "csv":
        body = "".join(
            f"id-{n},Place {n},Described,park,,{n % 180},{n % 90}\n" for n in range(rows)
        )
        return _write(tmp_path, f"{rows}.csv", CSV_HEADER + body)
    features = [
        _feature(n, name=f"Place {n}", description="Described", address=f"{n} Main St")
        for n in range(rows)
    ]
    return _geojson(tmp_path, features, name=f"{rows}.geojson")


@pytest.mark.parametrize("fmt", ["csv", "geojson"])
def test_an_import_reads_the_file_as_a_stream(db, tmp_path, fmt):
    small, large = _places_file(tmp_path, fmt, 2_000), _places_file(tmp_path, fmt, 10_000)
    _import_peak(small)  # first-use allocations (caches, imports) are not rows

    small_peak, large_peak = _import_peak(small), _import_peak(large)

    grown = large.stat().st_size - small.stat().st_size
    assert grown > 300_000
    # 8,000 more rows barely move the peak: the parser holds one row at a time.
    assert large_peak - small_peak < grown / 10, (small_peak, large_peak, grown)


def test_a_file_without_a_known_extension_is_recognised_by_its_content(db, tmp_path):
    geojson = tmp_path / "upload.bin"
    geojson.write_text(json.dumps({"type": "FeatureCollection", "features": [_feature(1)]}))
    table = _write(tmp_path, "upload.txt", CSV_HEADER + "c1,Some place,,park,,1,1\n")

    assert imports.locations_import(path=geojson, dry_run=True).fmt == "geojson"
    assert imports.locations_import(path=table, dry_run=True).fmt == "csv"
    with pytest.raises(imports.ImportFileError, match="Not valid JSON"):
        imports.locations_import(path=table, fmt="geojson", dry_run=True)
