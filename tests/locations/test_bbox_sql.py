"""The one BBox: parsed the same for the HTTP parameters and the live feed, split at the
antimeridian once, and turned into the `&&` envelopes the viewport and export SQL use."""

import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from locations.api.serializers import BBoxField
from locations.geo import BBox, BBoxError, parse_bbox
from tests.locations.factories import LocationFactory


def test_a_bbox_across_the_antimeridian_has_two_envelopes_meeting_at_180():
    box = BBox(170.0, -20.0, -170.0, 20.0)
    assert box.envelopes == ((170.0, -20.0, 180.0, 20.0), (-180.0, -20.0, -170.0, 20.0))
    assert BBox(10.0, 50.0, 14.0, 54.0).envelopes == ((10.0, 50.0, 14.0, 54.0),)


def test_a_point_on_either_side_of_the_antimeridian_is_inside_a_box_crossing_it():
    box = BBox(170.0, -20.0, -170.0, 20.0)
    assert box.contains(179.9, 0) and box.contains(-179.9, 0)
    assert not box.contains(0, 0)
    assert not box.contains(175, 21)


def test_the_sql_names_one_parameter_per_corner_and_half():
    sql, params = BBox(170.0, -20.0, -170.0, 20.0).sql_overlaps("l.point", prefix="b_")
    assert sql.count("ST_MakeEnvelope") == 2
    assert sql.startswith("(") and " OR " in sql
    assert params == {
        "b_x1_0": 170.0,
        "b_y1_0": -20.0,
        "b_x2_0": 180.0,
        "b_y2_0": 20.0,
        "b_x1_1": -180.0,
        "b_y1_1": -20.0,
        "b_x2_1": -170.0,
        "b_y2_1": 20.0,
    }


@pytest.mark.django_db
def test_the_sql_envelopes_find_places_on_both_sides_of_the_antimeridian_only():
    east = LocationFactory(approved=True, point=Point(179.5, -17.0, srid=4326))
    west = LocationFactory(approved=True, point=Point(-179.5, -17.0, srid=4326))
    LocationFactory(approved=True, point=Point(13.4, 52.5, srid=4326))
    overlaps, params = BBox(179.0, -18.0, -179.0, -16.0).sql_overlaps("point")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT id FROM locations_location WHERE {overlaps}", params)  # noqa: S608
        found = {row[0] for row in cursor.fetchall()}
    assert found == {east.id, west.id}


def test_the_api_and_the_live_feed_parse_a_bbox_alike():
    raw = "179,-18,-179,-16"
    assert BBoxField().to_internal_value(raw) == parse_bbox(raw) == BBox(179, -18, -179, -16)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1,2,3", "Expected 4 numbers"),
        ("1," * 100 + "1", "Expected 4 numbers"),
        ("a,2,3,4", "finite number"),
        ("inf,2,3,4", "finite number"),
        ("-181,0,10,10", "Longitudes must be within"),
        ("0,-91,10,10", "Latitudes must be within"),
        ("0,10,10,10", "minLat must be smaller"),
        ("5,0,5,10", "must differ"),
    ],
)
def test_the_api_refuses_a_malformed_bbox_in_its_own_words(raw, message):
    from rest_framework.exceptions import ValidationError

    with pytest.raises(ValidationError, match=message):
        BBoxField().to_internal_value(raw)


def test_the_api_refuses_an_overlong_bbox_before_reading_it():
    # Valid numbers, but 201 characters: the parameter cap, not the parser, refuses it.
    raw = "13." + "0" * 190 + ",52.3,13.8,52.7"
    assert len(raw) > BBoxField.MAX_LENGTH
    with pytest.raises(BBoxError) as refused:
        parse_bbox(raw, max_length=BBoxField.MAX_LENGTH)
    assert refused.value.code == "count"
    assert parse_bbox(raw) == BBox(13.0, 52.3, 13.8, 52.7)
