"""GDAL reads Placemap as an OGC API - Features server (its OAPIF driver, as QGIS does):
`ogrinfo` reports the layer with the right count and extent, and `ogr2ogr` copies every
approved place into a GeoPackage, page by page through the `next` links. Against a real
web server started as production starts it (tests.support.WebServer)."""

import os
import re
import shutil
import sqlite3
import subprocess
from datetime import UTC, datetime

import pytest

from tests.locations.factories import LocationFactory

OGRINFO = shutil.which("ogrinfo") or "/usr/bin/ogrinfo"
OGR2OGR = shutil.which("ogr2ogr") or "/usr/bin/ogr2ogr"

pytestmark = pytest.mark.skipif(
    not (os.path.exists(OGRINFO) and os.path.exists(OGR2OGR)),
    reason="gdal-bin is not installed (.ci/setup.sh installs it for make test)",
)

CATEGORIES = ("cafe", "park", "museum")


def gdal(*args: str) -> str:
    env = {
        **os.environ,
        # Straight to the loopback server, whatever proxy the machine is configured with.
        "NO_PROXY": "127.0.0.1",
        "no_proxy": "127.0.0.1",
        "CPL_DEBUG": "OFF",
    }
    result = subprocess.run(args, capture_output=True, text=True, timeout=120, env=env, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "ERROR" not in result.stderr, result.stderr
    return result.stdout


@pytest.fixture
def places(transactional_db):
    """23 approved places (three GDAL pages of 10) around the world, and some that must
    not be seen."""
    from django.contrib.gis.geos import Point

    approved = []
    for index in range(23):
        approved.append(
            LocationFactory(
                name=f"Place {index:02d} <ß>",
                category=CATEGORIES[index % 3],
                address=f"{index} Main Street",
                point=Point(-120.25 + index * 11.5, -40.5 + index * 3.25, srid=4326),
                approved=True,
                approved_at=datetime(2026, 1, 1 + index, 12, 30, tzinfo=UTC),
            )
        )
    LocationFactory(point=Point(170.0, 80.0, srid=4326))  # pending
    LocationFactory(point=Point(-170.0, -80.0, srid=4326), status="rejected")
    return approved


def test_ogrinfo_reports_the_layer_count_and_extent(web_server, places):
    server = web_server()

    out = gdal(OGRINFO, "-ro", "-so", f"OAPIF:{server.origin}/api/v1/ogc", "places")

    assert "Layer name: places" in out, out
    assert re.search(r"Feature Count: 23\b", out), out
    extent = re.search(r"Extent: \(([-\d.]+), ([-\d.]+)\) - \(([-\d.]+), ([-\d.]+)\)", out)
    assert extent, out
    west, south, east, north = (float(value) for value in extent.groups())
    assert (west, south) == (-120.25, -40.5)
    assert (east, north) == (-120.25 + 22 * 11.5, -40.5 + 22 * 3.25)


def test_gdal_filters_are_answered_by_the_server(web_server, places):
    # GDAL sends -spat as bbox and -where on a parameter the OpenAPI document lists
    # (category) as that parameter; the count is what comes back.
    server = web_server()
    source = f"OAPIF:{server.origin}/api/v1/ogc"

    cafes = gdal(OGRINFO, "-ro", "-so", "-where", "category = 'cafe'", source, "places")
    west = gdal(OGRINFO, "-ro", "-so", "-spat", "-130", "-50", "0", "0", source, "places")
    both = gdal(
        OGRINFO,
        "-ro",
        "-so",
        "-spat",
        "-130",
        "-50",
        "0",
        "0",
        "-where",
        "category = 'cafe'",
        source,
        "places",
    )

    assert re.search(r"Feature Count: 8\b", cafes), cafes
    assert re.search(r"Feature Count: 11\b", west), west
    assert re.search(r"Feature Count: 4\b", both), both


def test_a_gdal_date_filter_reaches_the_approval_time(web_server, places):
    # GDAL sends `datetime=2026-01-10T/..` for this: places approved from 10 January on
    # (the fixture approves place i on 1 + i January at 12:30).
    server = web_server()

    out = gdal(
        OGRINFO,
        "-ro",
        "-so",
        "-where",
        "approved_at >= '2026-01-10'",
        f"OAPIF:{server.origin}/api/v1/ogc",
        "places",
    )

    assert re.search(r"Feature Count: 14\b", out), out


def test_ogr2ogr_copies_every_approved_place_into_a_geopackage(web_server, places, tmp_path):
    server = web_server()
    target = tmp_path / "placemap.gpkg"

    gdal(OGR2OGR, "-f", "GPKG", str(target), f"OAPIF:{server.origin}/api/v1/ogc", "places")

    with sqlite3.connect(target) as db:
        columns = {row[1] for row in db.execute("PRAGMA table_info(places)")}
        assert {"name", "category", "address", "approved_at"} <= columns, columns
        rows = db.execute("SELECT name, category, address, approved_at FROM places").fetchall()
        (geometry_column,) = db.execute(
            "SELECT column_name FROM gpkg_geometry_columns WHERE table_name = 'places'"
        ).fetchone()
    assert len(rows) == 23
    by_name = {
        name: (category, address, approved_at) for name, category, address, approved_at in rows
    }
    assert set(by_name) == {place.name for place in places}
    for place in places[:3] + places[-2:]:
        category, address, approved_at = by_name[place.name]
        assert category == place.category
        assert address == place.address
        assert approved_at.startswith(place.approved_at.strftime("%Y-%m-%dT%H:%M:%S"))
    assert geometry_column == "geom"

    # The points, read back by GDAL itself.
    out = gdal(
        OGRINFO,
        "-ro",
        str(target),
        "-sql",
        "SELECT name, ST_X(geom) AS x, ST_Y(geom) AS y FROM places WHERE name = 'Place 05 <ß>'",
    )
    assert "x (Real) = -62.75" in out, out
    assert "y (Real) = -24.25" in out, out
