import pytest

from locations.geo import BBox, BBoxError, parse_bbox, point_in_bbox


def test_it_parses_a_bbox_string_into_numbers():
    assert parse_bbox("13.3, 52.4,13.5,52.6") == BBox(13.3, 52.4, 13.5, 52.6)


def test_it_parses_a_json_list_bbox():
    assert parse_bbox([-10, -5.5, 10, 5.5]) == BBox(-10.0, -5.5, 10.0, 5.5)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("1,2,3", "exactly 4"),
        ("1,2,3,4,5", "exactly 4"),
        ("a,2,3,4", "minLon must be a number"),
        ("nan,2,3,4", "minLon must be a finite"),
        ([1, 2, True, 4], "maxLon must be a number"),
        ([1, 2, None, 4], "maxLon must be a number"),
        ("-181,0,10,10", "minLon must be between"),
        ("0,-91,10,10", "minLat must be between"),
        ("0,10,10,10", "minLat must be less than maxLat"),
        ("5,0,5,10", "must differ"),
        ({"minLon": 1}, "minLon,minLat"),
    ],
)
def test_it_rejects_a_malformed_bbox_and_says_why(raw, message):
    with pytest.raises(BBoxError, match=message):
        parse_bbox(raw)


def test_it_rejects_a_bbox_wider_than_the_world():
    with pytest.raises(BBoxError, match="between -180 and 180"):
        parse_bbox("-200,-10,200,10")


def test_a_point_is_inside_a_plain_bbox_edges_included():
    box = parse_bbox("10,50,14,54")
    assert point_in_bbox(13.4, 52.5, box)
    assert point_in_bbox(10, 50, box)
    assert not point_in_bbox(14.01, 52.5, box)
    assert not point_in_bbox(13.4, 49.99, box)


def test_a_bbox_with_min_lon_above_max_lon_wraps_across_the_antimeridian():
    box = parse_bbox("170,-20,-170,20")
    assert box.crosses_antimeridian
    assert point_in_bbox(178.4, -18.1, box)  # Suva
    assert point_in_bbox(-175.2, -21.1 + 2, box)
    assert not point_in_bbox(0, 0, box)
    assert not point_in_bbox(160, 0, box)
    assert [b.as_list() for b in box.halves()] == [[170, -20, 180, 20], [-180, -20, -170, 20]]


def test_the_world_bbox_holds_every_point():
    box = parse_bbox("-180,-90,180,90")
    assert all(point_in_bbox(lon, lat, box) for lon, lat in [(-180, -90), (0, 0), (180, 90)])
