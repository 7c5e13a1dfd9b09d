"""One Feature shape: the SQL-built features of the list reads and the Python-built one
of the detail and the live feed spell a place the same way."""

import json

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test.utils import CaptureQueriesContext

from locations.geojson import (
    PUBLIC_PROPERTIES,
    LocationFeatureSerializer,
    cluster_feature_sql,
    feature_sql,
    location_feature_dict,
)
from locations.selectors import location_public_feature, locations_of_submitter
from tests.locations.conftest import API
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


def _sql_feature(location_id) -> dict:
    sql = f"SELECT {feature_sql(properties=PUBLIC_PROPERTIES)}::text FROM locations_location l WHERE l.id = %s"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [location_id])
        return json.loads(cursor.fetchone()[0])


def test_a_place_built_in_sql_reads_as_the_detail_reads_it():
    place = LocationFactory(approved=True, point=Point(13.123456789, 52.987654321, srid=4326))
    detail = location_public_feature(location_id=place.id)
    detail["properties"].pop("images")

    assert _sql_feature(place.id) == detail
    assert detail["geometry"]["coordinates"] == [13.1234568, 52.9876543]
    assert detail["properties"]["created_at"].endswith("Z")


def test_a_pending_place_has_no_approval_time_in_either_form():
    place = LocationFactory()
    assert _sql_feature(place.id)["properties"]["approved_at"] is None
    assert location_public_feature(location_id=place.id)["properties"]["approved_at"] is None


def test_a_cluster_feature_carries_its_count_and_extent():
    row = (
        "SELECT 3 AS n, 13.123456789 AS lon, 52.5 AS lat,"
        " 13.0 AS min_lon, 52.0 AS min_lat, 14.0 AS max_lon, 53.0 AS max_lat"
    )
    sql = f"SELECT {cluster_feature_sql('c')}::text FROM ({row}) c"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        feature = json.loads(cursor.fetchone()[0])
    assert feature == {
        "type": "Feature",
        "geometry": {"type": "Point", "coordinates": [13.1234568, 52.5]},
        "properties": {"cluster": True, "count": 3, "bbox": [13.0, 52.0, 14.0, 53.0]},
    }


def test_the_detail_and_the_list_write_a_place_in_the_same_bytes(user):
    # The detail goes through drf-gis, lists through the hand-built path
    # (location_feature_dict): a client must not tell them apart. (The photos' presigned
    # URLs are signed at one instant: tests/conftest.py's _signing_clock_stands_still.)
    for index in range(12):
        place = LocationFactory(
            submitter=user,
            approved=bool(index % 2),
            address="" if index % 3 else "1 Main Street",
            point=Point(
                round(-179.999999999 + index * 29.987654321, 9),
                round(-89.5 + index * 15.123456789, 9),
                srid=4326,
            ),
        )
        if index % 4 == 0:
            ImageFactory(location=place, uploader=user)
    places = list(locations_of_submitter(user=user))

    listed = LocationFeatureSerializer(places, many=True).data
    detailed = [LocationFeatureSerializer(place).data for place in places]

    assert [json.dumps(f) for f in listed] == [json.dumps(f) for f in detailed]
    assert [json.dumps(f) for f in listed] == [json.dumps(location_feature_dict(p)) for p in places]
    assert any(feature["properties"]["images"] for feature in listed)


def test_own_places_cost_the_same_queries_for_2_places_as_for_20(user, user_client):
    def queries_for_own_places() -> int:
        with CaptureQueriesContext(connection) as queries:
            response = user_client.get(f"{API}/me/locations?limit=200")
        assert response.status_code == 200
        return len(queries), response.json()["count"]

    for _ in range(2):
        ImageFactory(location=LocationFactory(submitter=user), uploader=user)
    few = queries_for_own_places()
    for _ in range(18):
        ImageFactory(location=LocationFactory(submitter=user), uploader=user)
    many = queries_for_own_places()

    assert few[1] == 2 and many[1] == 20
    assert many[0] == few[0]


def test_the_schema_lets_a_pending_place_lack_an_approval_time():
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    components = schema["components"]["schemas"]
    for name in ("PlaceProperties", "SearchPlaceProperties", "ViewportPlaceProperties"):
        assert components[name]["properties"]["approved_at"].get("nullable") is True, name
