"""A coordinate so close to 0 that float8 division underflows (5e-324) once made approval
fail with a 500 in the grid-cell trigger. Entry points now round coordinates to 1e-9
degrees (locations.geo.quantize_degrees) and the trigger folds any value the column holds.
"""

import pytest
from django.db import IntegrityError, connection, transaction

from locations.models import GridCell, Location
from tests.locations.conftest import API
from tests.locations.factories import LocationFactory

SUBNORMAL = 5e-324


def _approve(moderator_client, location_id) -> int:
    return moderator_client.patch(
        f"{API}/admin/locations/{location_id}/status", {"status": "approved"}, format="json"
    ).status_code


def test_it_stores_a_subnormal_latitude_as_zero_and_approval_succeeds(
    user_client, moderator_client
):
    body = {"name": "Null island", "category": "park", "latitude": SUBNORMAL, "longitude": 1}

    created = user_client.post(f"{API}/locations", body, format="json")

    assert created.status_code == 201
    assert created.json()["geometry"]["coordinates"] == [1.0, 0.0]
    location = Location.objects.get(id=created.json()["id"])
    assert location.point.y == 0.0
    assert _approve(moderator_client, location.id) == 200
    assert Location.objects.get(id=location.id).status == "approved"


def test_it_approves_a_place_patched_to_subnormal_coordinates(
    user, user_client, moderator_client, place_of
):
    place = place_of(user, status="pending")

    response = user_client.patch(
        f"{API}/locations/{place.id}",
        {"latitude": -SUBNORMAL, "longitude": SUBNORMAL},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["geometry"]["coordinates"] == [0.0, 0.0]
    assert _approve(moderator_client, place.id) == 200


def test_it_rounds_coordinates_to_a_billionth_of_a_degree(user_client):
    body = {
        "name": "Precise place",
        "category": "park",
        "latitude": 52.123456789123,
        "longitude": -0.0000000001,
    }

    created = user_client.post(f"{API}/locations", body, format="json")

    point = Location.objects.get(id=created.json()["id"]).point
    assert (point.x, point.y) == (0.0, 52.123456789)


@pytest.mark.parametrize(
    ("name", "content"),
    [
        (
            "p.csv",
            "external_id,name,category,longitude,latitude\n"
            "a,Tiny one,park,5e-324,-5e-324\nb,Normal one,park,13.4,52.5\n",
        ),
        (
            "p.geojson",
            '{"type":"FeatureCollection","features":[{"type":"Feature","geometry":'
            '{"type":"Point","coordinates":[5e-324,-5e-324]},'
            '"properties":{"name":"Tiny one","category":"park","external_id":"a"}}]}',
        ),
    ],
)
def test_it_imports_subnormal_coordinates_as_approved_places(db, tmp_path, name, content):
    from django.core.management import call_command

    path = tmp_path / name
    path.write_text(content)

    call_command("import_locations", str(path), "--status", "approved", "--no-progress")

    place = Location.objects.get(external_id="a")
    assert place.status == "approved"
    assert (place.point.x, place.point.y) == (0.0, 0.0)
    assert GridCell.objects.filter(level=16, cx=0, cy=0, category="park", n=1).exists()


def raw_place(lon: float, lat: float, *, name: str = "Raw place") -> str:
    """A pending place written by plain SQL, past every Python entry point."""
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO locations_location (id, name, description, category, address, point,
                                            status, created_at, updated_at)
            VALUES (gen_random_uuid(), %s, '', 'park', '',
                    ST_SetSRID(ST_MakePoint(%s::float8, %s::float8), 4326), 'pending',
                    now() - interval '1 day', now())
            RETURNING id
            """,
            [name, lon, lat],
        )
        return cursor.fetchone()[0]


def test_the_grid_trigger_folds_a_subnormal_coordinate_written_by_sql(moderator_client):
    location_id = raw_place(SUBNORMAL, -SUBNORMAL)
    LocationFactory(approved=True, category="park", point="SRID=4326;POINT(0 -0.0000001)")

    assert _approve(moderator_client, location_id) == 200

    # floor(5e-324 / size) is cell 0, floor(-5e-324 / size) cell -1, at every level.
    cell = GridCell.objects.get(level=16, cx=0, cy=-1, category="park")
    assert cell.n == 2
    assert (cell.sum_lon, cell.sum_lat) == (0.0, -0.0000001)
    # The mean a zoomed-out viewport divides out no longer underflows either.
    viewport = moderator_client.get(
        f"{API}/locations/viewport", {"bbox": "-170,-80,170,80", "zoom": 2}
    )
    assert viewport.status_code == 200
    Location.objects.filter(id=location_id).delete()
    assert GridCell.objects.get(level=16, cx=0, cy=-1, category="park").n == 1


@pytest.mark.parametrize(
    ("bbox", "zoom"),
    [("-1,-1,1,1", None), ("-1,-1,1,1", 14), ("-0.01,-0.01,0.01,0.01", 2), ("-170,-80,170,80", 2)],
)
def test_map_reads_survive_an_approved_subnormal_place_written_by_sql(db, api_client, bbox, zoom):
    Location.objects.filter(id=raw_place(SUBNORMAL, -SUBNORMAL)).update(status="approved")
    for index in range(30):  # more than the limit: the viewport clusters
        LocationFactory(approved=True, point=f"SRID=4326;POINT({index * 0.0001} 0)")
    params = {"bbox": bbox, "limit": 5, **({"zoom": zoom} if zoom is not None else {})}

    viewport = api_client.get(f"{API}/locations/viewport", params)
    search = api_client.get(f"{API}/locations/search", {"lat": 0, "lon": 0, "radius": 1000})

    assert viewport.status_code == 200, viewport.content[:300]
    assert viewport.json()["total"] == 31
    assert search.status_code == 200


@pytest.mark.parametrize(
    ("lon", "lat"),
    [(180.5, 0.0), (0.0, -90.5), (float("nan"), 0.0), (0.0, float("inf"))],
)
def test_the_column_refuses_a_coordinate_outside_wgs84(db, lon, lat):
    with pytest.raises(IntegrityError, match="location_point_in_range"), transaction.atomic():
        raw_place(lon, lat)


def test_the_column_refuses_an_empty_point(db):
    location_id = raw_place(1.0, 1.0)

    with pytest.raises(IntegrityError, match="location_point_in_range"), transaction.atomic():
        Location.objects.filter(id=location_id).update(point="SRID=4326;POINT EMPTY")
