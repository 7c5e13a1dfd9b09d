import csv
import io
import json
import shutil
import subprocess

import pytest
from asgiref.sync import async_to_sync
from django.contrib.gis.geos import Polygon
from django.core.management import call_command
from django.db import connection
from django.test import AsyncClient
from django.urls import reverse

from locations import exports
from locations.models import Location, LocationStatus
from tests.support import other_session

URL = reverse("v1:locations-export")


def _approved_ids() -> set[str]:
    return {
        str(pk)
        for pk in Location.objects.filter(status=LocationStatus.APPROVED).values_list(
            "pk", flat=True
        )
    }


def _download(client, **params) -> tuple:
    response = client.get(URL, params)
    assert response.status_code == 200, response.content
    assert response.streaming
    chunks = list(response.streaming_content)
    return response, chunks, b"".join(chunks)


def test_a_geojson_export_of_10000_places_streams_and_parses_back(
    api_client, ten_thousand_places, settings
):
    settings.EXPORT_CHUNK_SIZE = 1000
    response, chunks, body = _download(api_client, format="geojson")

    assert response["Content-Type"] == "application/geo+json"
    assert response["Content-Disposition"].startswith('attachment; filename="placemap-locations-')
    assert response["Content-Disposition"].endswith('.geojson"')
    # Sent as it is read: header, one piece per 1000-row fetch, footer.
    assert len(chunks) >= ten_thousand_places // 1000 + 2
    document = json.loads(body)
    assert document["type"] == "FeatureCollection"
    assert len(document["features"]) == ten_thousand_places
    assert {feature["id"] for feature in document["features"]} == _approved_ids()
    tricky = next(f for f in document["features"] if f["properties"]["external_id"] == "ext-1000")
    assert tricky["properties"]["name"] == '=HYPERLINK("x"), "quoted", ünïcødé 1000'
    assert tricky["properties"]["description"] == 'two\nlines, a comma; a "quote" and \\ end'
    assert tricky["geometry"] == {"type": "Point", "coordinates": [102.5, -39.75]}


def test_a_csv_export_of_10000_places_parses_back_with_the_right_count(
    api_client, ten_thousand_places
):
    response, _chunks, body = _download(api_client, format="csv")

    assert response["Content-Type"] == "text/csv; charset=utf-8"
    assert response["Content-Disposition"].endswith('.csv"')
    reader = csv.DictReader(io.StringIO(body.decode("utf-8"), newline=""))
    rows = list(reader)
    assert tuple(reader.fieldnames) == exports.CSV_COLUMNS
    assert len(rows) == ten_thousand_places
    assert {row["id"] for row in rows} == _approved_ids()
    assert {row["status"] for row in rows} == {"approved"}
    tricky = next(row for row in rows if row["external_id"] == "ext-1000")
    assert (float(tricky["longitude"]), float(tricky["latitude"])) == (102.5, -39.75)
    assert tricky["description"] == 'two\nlines, a comma; a "quote" and \\ end'
    # A spreadsheet would run "=HYPERLINK(...)" as a formula: the cell is defused.
    assert tricky["name"] == '\'=HYPERLINK("x"), "quoted", ünïcødé 1000'


def test_ogr2ogr_reads_the_geojson_export_with_the_right_count(
    api_client, ten_thousand_places, tmp_path
):
    ogr2ogr = shutil.which("ogr2ogr")
    assert ogr2ogr, "GDAL's ogr2ogr is part of the test environment (apt-get install gdal-bin)"
    _response, _chunks, body = _download(api_client, format="geojson")
    source = tmp_path / "export.geojson"
    source.write_bytes(body)

    converted = subprocess.run(
        [ogr2ogr, "-f", "CSV", "/vsistdout/", str(source), "-lco", "GEOMETRY=AS_XY"],
        capture_output=True,
        check=True,
        timeout=120,
    )

    rows = list(csv.DictReader(io.StringIO(converted.stdout.decode("utf-8"), newline="")))
    assert len(rows) == ten_thousand_places
    assert {"X", "Y", "name", "category", "external_id"} <= set(rows[0])
    by_external_id = {row["external_id"]: row for row in rows}
    assert float(by_external_id["ext-1000"]["X"]) == 102.5
    assert float(by_external_id["ext-1000"]["Y"]) == -39.75


def test_the_public_export_holds_approved_places_only(api_client, db):
    from tests.locations.factories import LocationFactory

    shown = LocationFactory(approved=True)
    LocationFactory(status=LocationStatus.PENDING)
    LocationFactory(status=LocationStatus.REJECTED)

    _response, _chunks, body = _download(api_client, format="geojson")

    assert [feature["id"] for feature in json.loads(body)["features"]] == [str(shown.pk)]


def test_an_empty_export_is_still_a_valid_document(api_client, db):
    _r, _c, geojson = _download(api_client, format="geojson")
    _r, _c, text = _download(api_client, format="csv")

    assert json.loads(geojson) == {"type": "FeatureCollection", "features": []}
    assert text.decode() == ",".join(exports.CSV_COLUMNS) + "\r\n"


def test_the_export_filters_by_bbox_and_category(api_client, ten_thousand_places):
    box = Polygon.from_bbox((0, 0, 10, 10))
    approved = Location.objects.filter(status=LocationStatus.APPROVED)
    expected = approved.filter(point__intersects=box, category__in=["park", "cafe"])
    assert 0 < expected.count() < ten_thousand_places

    _r, _c, body = _download(api_client, format="geojson", bbox="0,0,10,10", category="park,cafe")

    features = json.loads(body)["features"]
    assert {f["id"] for f in features} == {str(pk) for pk in expected.values_list("pk", flat=True)}


def test_a_bbox_across_the_antimeridian_exports_both_sides(api_client, ten_thousand_places):
    approved = Location.objects.filter(status=LocationStatus.APPROVED)
    east = approved.filter(point__intersects=Polygon.from_bbox((170, -10, 180, 10)))
    west = approved.filter(point__intersects=Polygon.from_bbox((-180, -10, -170, 10)))
    assert east.exists() and west.exists()

    _r, _c, body = _download(api_client, format="csv", bbox="170,-10,-170,10")

    rows = list(csv.DictReader(io.StringIO(body.decode(), newline="")))
    assert len(rows) == east.count() + west.count()
    assert all(abs(float(row["longitude"])) >= 170 for row in rows)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"format": "shapefile"}, "format"),
        ({"format": "csv", "bbox": "0,0,10"}, "bbox"),
        ({"format": "csv", "bbox": "0,95,10,96"}, "bbox"),
        ({"format": "geojson", "category": "spaceport"}, "category"),
    ],
)
def test_it_rejects_bad_parameters_with_a_problem_naming_the_field(api_client, db, params, field):
    response = api_client.get(URL, params)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]


def test_the_bbox_export_uses_the_partial_spatial_index(db):
    sql, params = exports.export_query(
        filters=exports.ExportFilters(bbox=(0, 0, 10, 10)), fmt=exports.FORMAT_GEOJSON
    )
    with connection.cursor() as cursor:
        # An empty table is cheapest to scan; forbid that to see which index the
        # planner can use for this query text.
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("EXPLAIN " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())

    assert "location_point_approved_gist" in plan


def test_under_asgi_the_export_is_an_async_stream(ten_thousand_places, settings):
    """Django would drain a sync iterator into a list under ASGI; the view hands it an
    async iterator so memory stays flat there too."""
    settings.EXPORT_CHUNK_SIZE = 2000

    async def download():
        response = await AsyncClient().get(URL, {"format": "csv"})
        chunks = [chunk async for chunk in response.streaming_content]
        return response, chunks

    response, chunks = async_to_sync(download)()

    assert response.status_code == 200
    assert response.is_async
    assert len(chunks) >= ten_thousand_places // 2000 + 1
    rows = list(csv.DictReader(io.StringIO(b"".join(chunks).decode(), newline="")))
    assert len(rows) == ten_thousand_places


# --- manage.py export_locations ----------------------------------------------------------


def test_the_export_command_writes_every_status_asked_for(ten_thousand_places, tmp_path):
    target = tmp_path / "all.csv"
    stderr = io.StringIO()

    call_command(
        "export_locations", "--format", "csv", "--status", "all", "-o", str(target), stderr=stderr
    )

    rows = list(csv.DictReader(target.open(newline="", encoding="utf-8")))
    assert len(rows) == ten_thousand_places + 3
    assert sorted(r["status"] for r in rows if r["status"] != "approved") == [
        "pending",
        "pending",
        "rejected",
    ]
    assert not (tmp_path / "all.csv.partial").exists()
    assert f"Exported {ten_thousand_places + 3} places" in stderr.getvalue()


def test_the_export_command_streams_geojson_to_stdout(ten_thousand_places):
    out = io.StringIO()

    call_command("export_locations", "--status", "pending,rejected", "--no-progress", stdout=out)

    document = json.loads(out.getvalue())
    assert sorted(f["properties"]["status"] for f in document["features"]) == [
        "pending",
        "pending",
        "rejected",
    ]


def test_the_export_command_refuses_an_unknown_status(db):
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="archived"):
        call_command("export_locations", "--status", "archived")


def _backend_activity(pid: int) -> tuple[str, str]:
    """(state, query) of a backend, seen from another session."""
    with other_session() as observer:
        return observer.execute(
            "SELECT state, query FROM pg_stat_activity WHERE pid = %s", [pid]
        ).fetchone()


def test_a_client_that_goes_away_releases_the_cursor(ten_thousand_places):
    # StreamingHttpResponse.close() closes the generator when a download is interrupted.
    chunks = exports.export_text(filters=exports.ExportFilters(), fmt="csv", chunk_size=500)
    next(chunks)
    next(chunks)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone()[0] == 1  # the export's server-side cursor

    chunks.close()

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone()[0] == 0
    assert not connection.needs_rollback


def test_a_client_that_goes_away_ends_the_geojson_copy(ten_thousand_places):
    # GeoJSON streams through COPY ... TO STDOUT, which holds the connection until it
    # ends: closing the generator must cancel it and give the connection back usable.
    chunks = exports.export_text(filters=exports.ExportFilters(), fmt="geojson", chunk_size=500)
    next(chunks)
    next(chunks)
    state, query = _backend_activity(connection.connection.info.backend_pid)
    assert query.startswith("COPY (")
    assert state in ("active", "idle in transaction")

    chunks.close()

    with connection.cursor() as cursor:  # would wait for ever on a connection still copying
        cursor.execute("SELECT count(*) FROM locations_location WHERE status = 'approved'")
        assert cursor.fetchone()[0] == ten_thousand_places
    assert not connection.needs_rollback


def test_exports_have_their_own_rate_limit(api_client, db, settings):
    settings.EXPORT_THROTTLE_RATE = "2/minute"

    statuses = [api_client.get(URL, {"format": "csv"}).status_code for _ in range(3)]

    assert statuses == [200, 200, 429]
    refused = api_client.get(URL, {"format": "csv"})
    assert refused["Content-Type"] == "application/problem+json"
    assert int(refused["Retry-After"]) > 0


def _export_peak(fmt: str, *, stop_after: int) -> tuple[int, int]:
    """(bytes of text produced, peak traced memory) while exporting up to stop_after rows."""
    import tracemalloc

    size = done = 0
    tracemalloc.start()
    try:
        chunks = exports.export_chunks(filters=exports.ExportFilters(), fmt=fmt, chunk_size=500)
        for text, rows in chunks:
            size += len(text)
            done += rows
            if done >= stop_after:
                chunks.close()
                break
        return size, tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.parametrize("fmt", exports.FORMATS)
def test_an_export_never_holds_the_whole_document_in_memory(ten_thousand_places, fmt):
    _export_peak(fmt, stop_after=500)  # first-use allocations (caches, imports) are not rows
    small_size, small_peak = _export_peak(fmt, stop_after=2_000)
    full_size, full_peak = _export_peak(fmt, stop_after=ten_thousand_places)

    # 8,000 more rows (megabytes of text) barely move the peak: one chunk at a time.
    assert full_size - small_size > 1_000_000
    assert full_peak - small_peak < (full_size - small_size) / 10, (small_peak, full_peak)


def test_a_real_asgi_server_streams_the_whole_export(asgi_server, ten_thousand_places):
    import urllib.request

    url = f"http://127.0.0.1:{asgi_server}{URL}?format=geojson"
    with urllib.request.urlopen(url, timeout=60) as response:
        assert response.status == 200
        assert response.headers["Content-Type"] == "application/geo+json"
        assert response.headers["Transfer-Encoding"] == "chunked"
        body = b"".join(iter(lambda: response.read(65536), b""))

    assert len(json.loads(body)["features"]) == ten_thousand_places


def test_request_finished_closes_an_export_abandoned_mid_stream(api_client, ten_thousand_places):
    """Under ASGI a disconnect cancels the response without closing it; Django still
    sends request_finished on the request's thread, and that frees the cursor."""
    from django.core.signals import request_finished
    from django.db import close_old_connections

    response = api_client.get(URL, {"format": "csv"})
    stream = iter(response.streaming_content)
    next(stream)
    next(stream)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone()[0] == 1

    # Keep the test's own connection (inside its transaction) open, as the test client does.
    request_finished.disconnect(close_old_connections)
    try:
        request_finished.send(sender=None)
    finally:
        request_finished.connect(close_old_connections)

    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        assert cursor.fetchone()[0] == 0
