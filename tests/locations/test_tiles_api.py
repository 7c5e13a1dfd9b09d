"""GET /tiles/{z}/{x}/{y}.mvt and /tiles.json on the real PostGIS, tiles decoded with
mapbox-vector-tile."""

import math
import random

import mapbox_vector_tile
import pytest
from django.contrib.gis.geos import Point
from django.db import connection

from locations.imports import locations_import
from locations.models import GridCell, Location
from locations.selectors.tiles import Tile, abbreviate_count, tile_summary_plan
from locations.services import location_update
from moderation.services import location_transition
from tests.locations.conftest import API
from tests.locations.factories import LocationFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

MVT = "application/vnd.mapbox-vector-tile"


def tile_xy(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return x, y


def get_tile(client, z, x, y, **headers):
    return client.get(f"{API}/tiles/{z}/{x}/{y}.mvt", **headers)


def features_of(response) -> list[dict]:
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == MVT
    layers = mapbox_vector_tile.decode(response.content)
    assert set(layers) == {"places"}
    assert layers["places"]["extent"] == 4096
    return layers["places"]["features"]


def approved(lon, lat, **fields):
    return LocationFactory(point=Point(lon, lat, srid=4326), approved=True, **fields)


def count_inside(tile: Tile) -> int:
    """The true number of approved places inside the tile (edges included), counted
    without the summary."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM locations_location WHERE status = 'approved'"
            " AND point && ST_MakeEnvelope(%s, %s, %s, %s, 4326)",
            tile.bbox().as_list(),
        )
        return cursor.fetchone()[0]


def test_a_tile_above_the_cluster_zoom_has_one_point_per_place(api_client):
    inside = [
        approved(13.4050, 52.5200, name="Brandenburg Gate", category="monument"),
        approved(13.4060, 52.5210, name="Corner cafe", category="cafe"),
    ]
    approved(13.5, 52.6)  # another tile at z15
    LocationFactory(point=Point(13.4055, 52.5205, srid=4326))  # pending: never shown

    x, y = tile_xy(13.4055, 52.5205, 15)
    features = features_of(get_tile(api_client, 15, x, y))

    assert sorted(f["properties"]["id"] for f in features) == sorted(str(p.id) for p in inside)
    by_id = {f["properties"]["id"]: f for f in features}
    gate = by_id[str(inside[0].id)]
    assert gate["properties"] == {
        "id": str(inside[0].id),
        "name": "Brandenburg Gate",
        "category": "monument",
    }
    assert gate["geometry"]["type"] == "Point"
    px, py = gate["geometry"]["coordinates"]
    assert 0 <= px < 4096 and 0 <= py < 4096


def test_a_place_just_outside_is_in_the_buffer_but_not_far_away(api_client):
    z = 16
    x, y = tile_xy(13.4055, 52.5205, z)
    bbox = Tile(z, x, y).bbox()
    width = bbox.max_lon - bbox.min_lon
    near = approved(bbox.max_lon + width * 0.005, (bbox.min_lat + bbox.max_lat) / 2)
    approved(bbox.max_lon + width * 0.5, (bbox.min_lat + bbox.max_lat) / 2)

    ids = [f["properties"]["id"] for f in features_of(get_tile(api_client, z, x, y))]

    assert ids == [str(near.id)]


def test_zoomed_out_tiles_are_clusters_adding_up_to_the_places_inside(api_client):
    rng = random.Random(15)
    for _ in range(300):
        approved(rng.uniform(-10, 30), rng.uniform(36, 60), category=rng.choice(["park", "cafe"]))
    for z in (2, 4, 6):
        x, y = tile_xy(10, 50, z)
        features = features_of(get_tile(api_client, z, x, y))
        clusters = [f for f in features if f["properties"].get("cluster")]
        singles = [f for f in features if not f["properties"].get("cluster")]

        # Dense enough for clusters at z <= 4; at z 6 most cells hold a single place.
        assert clusters if z <= 4 else singles, z
        total = sum(f["properties"]["point_count"] for f in clusters) + len(singles)
        assert total == count_inside(Tile(z, x, y)), z
        for feature in clusters:
            props = feature["properties"]
            assert props["cluster"] is True
            assert props["point_count"] >= 2
            assert props["point_count_abbreviated"] == abbreviate_count(props["point_count"])
            assert props.get("count_park", 0) + props.get("count_cafe", 0) == props["point_count"]
            assert isinstance(props["cluster_id"], int)
            assert "id" not in props and "name" not in props
        assert len({f["properties"]["cluster_id"] for f in clusters}) == len(clusters)
        for feature in singles:
            assert set(feature["properties"]) == {"id", "name", "category"}


def test_the_summary_is_used_and_agrees_with_the_places(api_client):
    # z=3 around Europe: summary cells inside the tile, strips at its top and bottom.
    rng = random.Random(3)
    for _ in range(200):
        approved(rng.uniform(0, 45), rng.uniform(0, 66))
    assert GridCell.objects.filter(level=6).exists()
    x, y = tile_xy(20, 40, 3)

    features = features_of(get_tile(api_client, 3, x, y))

    total = sum(f["properties"].get("point_count", 1) for f in features)
    assert total == count_inside(Tile(3, x, y)) > 100


def test_a_cell_holding_one_place_is_that_place(api_client):
    lonely = approved(-60.0, -30.0, name="Lonely bench", category="park")
    for i in range(5):
        approved(10.0 + i * 0.001, 50.0)

    x, y = tile_xy(-60, -30, 3)
    (feature,) = features_of(get_tile(api_client, 3, x, y))
    assert feature["properties"] == {
        "id": str(lonely.id),
        "name": "Lonely bench",
        "category": "park",
    }
    x, y = tile_xy(10, 50, 3)
    (cluster,) = features_of(get_tile(api_client, 3, x, y))
    assert cluster["properties"]["point_count"] == 5
    assert cluster["properties"]["count_park"] == 5


def test_the_category_filter_keeps_only_that_category(api_client):
    for i in range(4):
        approved(10 + i * 0.01, 50, category="cafe")
    for i in range(3):
        approved(10 + i * 0.01, 50.01, category="park")
    x, y = tile_xy(10, 50, 5)

    response = api_client.get(f"{API}/tiles/5/{x}/{y}.mvt?category=park")

    features = features_of(response)
    assert sum(f["properties"].get("point_count", 1) for f in features) == 3
    assert all("count_cafe" not in f["properties"] for f in features)
    x, y = tile_xy(10, 50, 18)
    assert api_client.get(f"{API}/tiles/18/{x}/{y}.mvt?category=museum").status_code == 204


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("23/0/0", "z"),
        ("-1/0/0", "z"),
        ("abc/0/0", "z"),
        ("1/2/0", "x"),
        ("1/0/2", "y"),
        ("0/-1/0", "x"),
        ("3/0/99999999999999999999999", "y"),
    ],
)
def test_it_refuses_a_tile_outside_the_pyramid(api_client, path, field):
    assert_problem(api_client.get(f"{API}/tiles/{path}.mvt"), 400, field=field)


def test_it_refuses_an_unknown_or_empty_category(api_client):
    assert_problem(api_client.get(f"{API}/tiles/0/0/0.mvt?category=volcano"), 400, field="category")
    assert_problem(api_client.get(f"{API}/tiles/0/0/0.mvt?category="), 400, field="category")
    assert_problem(api_client.get(f"{API}/tiles.json?category=volcano"), 400, field="category")


def test_an_empty_tile_is_204_and_still_cacheable(api_client):
    approved(13.4, 52.5)
    response = get_tile(api_client, 10, 0, 0)

    assert response.status_code == 204
    assert response.content == b""
    assert response["Cache-Control"] == "public, max-age=60"
    assert response["ETag"]


def test_caching_headers_and_304(api_client, settings):
    settings.TILE_MAX_AGE = 120
    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 12)
    first = get_tile(api_client, 12, x, y)
    etag = first["ETag"]

    again = get_tile(api_client, 12, x, y, HTTP_IF_NONE_MATCH=etag)
    listed = get_tile(api_client, 12, x, y, HTTP_IF_NONE_MATCH=f'"nope", W/{etag}')
    other = get_tile(api_client, 12, x, y, HTTP_IF_NONE_MATCH='"nope"')

    assert first["Cache-Control"] == "public, max-age=120"
    assert etag.startswith('"') and etag.endswith('"') and not etag.startswith("W/")
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and again["Cache-Control"] == "public, max-age=120"
    assert listed.status_code == 304
    assert other.status_code == 200 and other.content == first.content


@pytest.mark.parametrize("z", [4, 12, 16])
def test_an_approval_inside_the_tile_changes_its_etag_and_one_outside_does_not(
    api_client, moderator, z, django_capture_on_commit_callbacks
):
    # Each change commits (its on-commit hooks run), as in production: the first zooms'
    # tiles are kept whole until the map changes (locations.tile_cache).
    def committed():
        return django_capture_on_commit_callbacks(execute=True)

    approved(13.40, 52.50)
    approved(13.41, 52.51)
    x, y = tile_xy(13.405, 52.505, z)
    bbox = Tile(z, x, y).bbox()
    spot = Point(
        bbox.min_lon + (bbox.max_lon - bbox.min_lon) * 0.3,
        bbox.min_lat + (bbox.max_lat - bbox.min_lat) * 0.4,
        srid=4326,
    )
    inside = LocationFactory(point=spot)
    outside = LocationFactory(point=Point(-70, -40, srid=4326))
    before = get_tile(api_client, z, x, y)["ETag"]

    with committed():
        location_transition(location_id=outside.id, to_status="approved", moderator=moderator)
    after_outside = get_tile(api_client, z, x, y)["ETag"]
    with committed():
        location_transition(location_id=inside.id, to_status="approved", moderator=moderator)
    after_inside = get_tile(api_client, z, x, y)
    revalidated = get_tile(api_client, z, x, y, HTTP_IF_NONE_MATCH=before)
    # An edit (a moderator's category change) shows in the tile at every zoom.
    with committed():
        location_update(
            location=Location.objects.get(pk=inside.id), actor=moderator, category="cafe"
        )
    after_edit = get_tile(api_client, z, x, y)["ETag"]
    with committed():
        location_transition(
            location_id=inside.id,
            to_status="rejected",
            moderator=moderator,
            reason_code="spam",
            reason="Spam.",
        )
    after_removal = get_tile(api_client, z, x, y)["ETag"]

    assert after_outside == before
    assert after_inside["ETag"] != before
    assert revalidated.status_code == 200 and revalidated.content == after_inside.content
    assert after_edit != after_inside["ETag"]
    assert after_removal not in {after_edit, after_inside["ETag"]}
    assert after_removal == before  # the same tile as before the approval


def test_places_beyond_mercator_latitudes_are_drawn_on_the_edge_tiles(api_client):
    north = approved(20.0, 89.0, name="North pole camp")
    south = approved(20.0, -89.5, name="South pole station")

    for place, y in ((north, 0), (south, 2**16 - 1)):
        x, _ = tile_xy(20.0, 0, 16)
        (feature,) = features_of(get_tile(api_client, 16, x, y))
        assert feature["properties"]["id"] == str(place.id)
    (cluster_or_place,) = [
        f for f in features_of(get_tile(api_client, 1, 1, 0)) if "North" in str(f["properties"])
    ]
    assert cluster_or_place["properties"]["id"] == str(north.id)


def test_tilejson_describes_the_tiles(api_client):
    approved(13.40, 52.50)
    approved(2.35, 48.85)
    approved(-74.0, 40.7)

    response = api_client.get(f"{API}/tiles.json")

    assert response.status_code == 200
    body = response.json()
    assert body["tilejson"] == "3.0.0"
    assert body["tiles"] == ["http://testserver/api/v1/tiles/{z}/{x}/{y}.mvt"]
    assert (body["minzoom"], body["maxzoom"]) == (0, 22)
    west, south, east, north = body["bounds"]
    assert west <= -74.0 < 2.35 < 13.40 <= east and east - west < 90
    assert south <= 40.7 < 52.50 <= north and north - south < 15
    lon, lat, zoom = body["center"]
    assert west <= lon <= east and south <= lat <= north and 0 <= zoom <= 22
    (layer,) = body["vector_layers"]
    assert layer["id"] == "places"
    assert {"id", "name", "category", "cluster", "point_count"} <= set(layer["fields"])
    # Its template, filled in, is a working tile URL.
    x, y = tile_xy(13.40, 52.50, 15)
    tile_url = body["tiles"][0].format(z=15, x=x, y=y).removeprefix("http://testserver")
    assert api_client.get(tile_url).status_code == 200

    filtered = api_client.get(f"{API}/tiles.json?category=cafe,park").json()
    assert filtered["tiles"][0].endswith("{z}/{x}/{y}.mvt?category=cafe,park")


def test_tilejson_without_places_has_world_bounds(api_client):
    body = api_client.get(f"{API}/tiles.json").json()

    assert body["bounds"][0] == -180 and body["bounds"][2] == 180


def test_clusters_add_up_in_every_tile_with_places_on_tile_and_cell_edges(api_client):
    # Places on tile edges across (multiples of 360 / 2**z), on summary cell edges up and
    # down (multiples of 360 / 2**level), and at random: each tile's clusters still add
    # up to a plain count of its places (edges included, so a place on an edge shared by
    # two tiles is in both).
    rng = random.Random(4)
    spots = [(0.0, 45.0), (22.5, 42.1875), (11.25, 50.625), (-11.25, 39.375), (45.0, 0.0)]
    spots += [(rng.choice([0.0, 22.5, 5.625]), rng.uniform(30, 60)) for _ in range(30)]
    spots += [(rng.uniform(-20, 40), rng.choice([45.0, 42.1875, 49.21875])) for _ in range(30)]
    spots += [(rng.uniform(-20, 40), rng.uniform(30, 60)) for _ in range(150)]
    for lon, lat in spots:
        approved(lon, lat, category=rng.choice(["park", "cafe", "bar"]))
    for z in (1, 2, 3, 4, 5):
        tiles = {tile_xy(min(lon, 179.999), lat, z) for lon, lat in spots}
        tiles |= {tile_xy(lon - 1e-9, lat, z) for lon, lat in spots if lon}  # west neighbours
        for x, y in tiles:
            response = get_tile(api_client, z, x, y)
            total = sum(f["properties"].get("point_count", 1) for f in features_of(response))
            assert total == count_inside(Tile(z, x, y)), (z, x, y)


def test_a_tile_reads_whole_summary_rows_and_only_thin_strips_of_places():
    for z, x, y in [(4, 8, 5), (3, 4, 2), (8, 137, 84), (1, 1, 0), (12, 2200, 1343)]:
        bbox = Tile(z, x, y).bbox()
        plan = tile_summary_plan(bbox, z + 3)
        assert plan is not None
        covered = 0.0
        for rows in plan.rows:
            size = 360.0 / 2**rows.level
            assert rows.ix1 * size == bbox.min_lon and (rows.ix2 + 1) * size == bbox.max_lon
            assert bbox.min_lat <= rows.iy1 * size and (rows.iy2 + 1) * size <= bbox.max_lat
            covered += (rows.iy2 + 1 - rows.iy1) * size
        strips = [s for s in plan.strips if s[0] != s[2] and s[1] != s[3]]  # not the edges
        assert all(top - bottom < 360.0 / 2**16 for _, bottom, _, top in strips)
        thin = sum(top - bottom for _, bottom, _, top in strips)
        assert covered + thin == pytest.approx(bbox.max_lat - bbox.min_lat)
    # Clusters finer than the finest summary level: no plan, the places are grouped.
    assert tile_summary_plan(Tile(14, 8800, 5373).bbox(), 17) is None


# --- revalidation without PostgreSQL (locations.tile_cache) -----------------------------


def test_an_anonymous_revalidation_is_answered_without_touching_postgresql(
    api_client, django_assert_num_queries
):
    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 12)
    first = get_tile(api_client, 12, x, y, HTTP_ACCEPT_ENCODING="gzip")
    etag = first["ETag"]
    with django_assert_num_queries(0):
        again = get_tile(api_client, 12, x, y, HTTP_IF_NONE_MATCH=etag, HTTP_ACCEPT_ENCODING="gzip")
        star = get_tile(api_client, 12, x, y, HTTP_IF_NONE_MATCH="*", HTTP_ACCEPT_ENCODING="gzip")
    assert again.status_code == star.status_code == 304
    # The same headers as the 304 config.http_cache makes after building the tile.
    for header in ("ETag", "Cache-Control", "Vary"):
        assert again[header] == first[header]
    # A small tile is sent uncompressed either way: the same representation, also a 304
    # (built, since the memo is kept per accepted coding).
    identity = get_tile(api_client, 12, x, y, HTTP_IF_NONE_MATCH=etag)
    assert identity.status_code == 304 and identity["ETag"] == etag


@pytest.mark.parametrize("change", ["approval", "import"])
def test_a_committed_change_retires_every_remembered_etag(
    change, api_client, moderator, tmp_path, django_capture_on_commit_callbacks
):
    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 12)
    before = get_tile(api_client, 12, x, y)["ETag"]
    with django_capture_on_commit_callbacks(execute=True):
        if change == "approval":
            pending = LocationFactory(point=Point(13.401, 52.501, srid=4326))
            location_transition(location_id=pending.id, to_status="approved", moderator=moderator)
        else:
            source = tmp_path / "places.csv"
            source.write_text("name,category,latitude,longitude\nNew bakery,cafe,52.501,13.401\n")
            locations_import(path=source, status="approved")

    revalidated = get_tile(api_client, 12, x, y, HTTP_IF_NONE_MATCH=before)
    assert revalidated.status_code == 200
    assert revalidated["ETag"] != before


def test_a_token_holders_revalidation_is_not_served_from_the_memo(
    api_client, user_client, django_assert_max_num_queries
):
    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 12)
    etag = get_tile(api_client, 12, x, y)["ETag"]
    response = get_tile(user_client, 12, x, y, HTTP_IF_NONE_MATCH=etag)
    assert response.status_code == 304
    assert response["Cache-Control"].startswith("private")


def test_a_first_zooms_tile_is_built_once_while_the_map_is_unchanged(
    api_client, moderator, settings, django_assert_num_queries, django_capture_on_commit_callbacks
):
    settings.TILE_MEMO_MAX_ZOOM = 4
    # The memo in the cache, shared by every process (this process' own memo is off).
    settings.TILE_PROCESS_MEMO_BYTES = 0
    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 4)
    first = get_tile(api_client, 4, x, y)
    assert first.status_code == 200

    with django_assert_num_queries(0):
        again = get_tile(api_client, 4, x, y)
    assert (again.status_code, again.content, again["ETag"]) == (200, first.content, first["ETag"])
    # Deeper tiles are built each time; so are a token holder's.
    deeper = tile_xy(13.4, 52.5, 5)
    get_tile(api_client, 5, *deeper)
    with django_assert_num_queries(1):
        get_tile(api_client, 5, *deeper)

    with django_capture_on_commit_callbacks(execute=True):
        pending = LocationFactory(point=Point(13.401, 52.501, srid=4326))
        location_transition(location_id=pending.id, to_status="approved", moderator=moderator)

    after = get_tile(api_client, 4, x, y)
    assert after.content != first.content
    assert sum(f["properties"].get("point_count", 1) for f in features_of(after)) == 2


# --- every zoom's tiles kept whole in the process (locations.tile_cache.process_memo) ---


def test_a_repeated_tile_of_any_zoom_is_answered_from_the_process_without_postgresql(
    api_client, django_assert_num_queries
):
    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 17)
    first = get_tile(api_client, 17, x, y)
    with django_assert_num_queries(0):
        again = get_tile(api_client, 17, x, y)
    assert (again.status_code, again.content, again["ETag"]) == (200, first.content, first["ETag"])
    assert again["Cache-Control"] == first["Cache-Control"]


def test_a_committed_approval_retires_the_tiles_kept_in_the_process(
    api_client, moderator, django_capture_on_commit_callbacks, django_assert_num_queries
):
    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 16)
    first = get_tile(api_client, 16, x, y)
    pending = LocationFactory(point=Point(13.4001, 52.5001, srid=4326))
    # Not yet approved: the tile kept is still the map's tile.
    with django_assert_num_queries(0):
        assert get_tile(api_client, 16, x, y).content == first.content

    with django_capture_on_commit_callbacks(execute=True):
        location_transition(location_id=pending.id, to_status="approved", moderator=moderator)

    after = get_tile(api_client, 16, x, y)
    assert after["ETag"] != first["ETag"]
    assert {f["properties"]["id"] for f in features_of(after)} == {
        str(pending.id),
        *(f["properties"]["id"] for f in features_of(first)),
    }
    with django_assert_num_queries(0):
        assert get_tile(api_client, 16, x, y).content == after.content


def test_an_approval_whose_commit_is_rolled_back_leaves_the_kept_tile(
    api_client, moderator, django_assert_num_queries
):
    from django.db import transaction

    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 16)
    first = get_tile(api_client, 16, x, y)
    pending = LocationFactory(point=Point(13.4001, 52.5001, srid=4326))
    with pytest.raises(RuntimeError), transaction.atomic():
        location_transition(location_id=pending.id, to_status="approved", moderator=moderator)
        raise RuntimeError("rolled back")
    with django_assert_num_queries(0):
        assert get_tile(api_client, 16, x, y).content == first.content


def test_category_filters_are_kept_apart_and_their_order_does_not_matter(
    api_client, django_assert_num_queries
):
    approved(13.4, 52.5, category="cafe")
    approved(13.4001, 52.5001, category="park")
    approved(13.4002, 52.5002, category="bar")
    x, y = tile_xy(13.4, 52.5, 16)

    def categories(response):
        return sorted(f["properties"]["category"] for f in features_of(response))

    everything = get_tile(api_client, 16, x, y)
    cafes = api_client.get(f"{API}/tiles/16/{x}/{y}.mvt?category=cafe")
    two = api_client.get(f"{API}/tiles/16/{x}/{y}.mvt?category=park,cafe")
    assert categories(everything) == ["bar", "cafe", "park"]
    assert categories(cafes) == ["cafe"]
    assert categories(two) == ["cafe", "park"]
    with django_assert_num_queries(0):
        again = api_client.get(f"{API}/tiles/16/{x}/{y}.mvt?category=cafe,park")
        assert get_tile(api_client, 16, x, y).content == everything.content
        assert api_client.get(f"{API}/tiles/16/{x}/{y}.mvt?category=cafe").content == cafes.content
    assert again.content == two.content


def test_the_process_memo_keeps_within_its_bytes_dropping_the_least_recently_used(
    api_client, settings, django_assert_num_queries
):
    from locations.tile_cache import ENTRY_OVERHEAD_BYTES, process_memo

    spots = [(13.4 + i * 0.01, 52.5) for i in range(3)]
    for lon, lat in spots:
        for k in range(20):
            approved(lon + k * 1e-5, lat, name=f"Place number {k} near {lon}")
    tiles = [tile_xy(lon, lat, 16) for lon, lat in spots]
    assert len(set(tiles)) == 3
    sizes = [len(get_tile(api_client, 16, x, y).content) for x, y in tiles]
    process_memo.clear()
    # Room for two of the three tiles, not three.
    settings.TILE_PROCESS_MEMO_BYTES = sum(sorted(sizes)[1:]) + 2 * ENTRY_OVERHEAD_BYTES + 1
    a, b, c = tiles
    get_tile(api_client, 16, *a)
    get_tile(api_client, 16, *b)
    with django_assert_num_queries(0):
        get_tile(api_client, 16, *a)  # a is now the most recently used
    get_tile(api_client, 16, *c)  # b goes
    assert len(process_memo) == 2
    assert process_memo.size <= settings.TILE_PROCESS_MEMO_BYTES
    with django_assert_num_queries(0):
        get_tile(api_client, 16, *a)
        get_tile(api_client, 16, *c)
    with django_assert_num_queries(1):
        get_tile(api_client, 16, *b)

    # A tile larger than the whole memo is not kept; 0 keeps none.
    settings.TILE_PROCESS_MEMO_BYTES = 0
    process_memo.clear()
    get_tile(api_client, 16, *a)
    assert len(process_memo) == 0


def test_a_kept_tile_lives_at_most_tile_max_age(api_client, settings, django_assert_num_queries):
    settings.TILE_MAX_AGE = 0  # every kept tile is already too old
    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 16)
    get_tile(api_client, 16, x, y)
    with django_assert_num_queries(1):
        get_tile(api_client, 16, x, y)


def test_a_lost_generation_never_serves_a_tile_of_an_older_map(api_client):
    # Redis flushed (or the key evicted): the generation starts again at a random number,
    # not at a count the process holds tiles under; a place added meanwhile shows.
    from django.core.cache import cache

    from locations.tile_cache import GENERATION_KEY

    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 16)
    first = get_tile(api_client, 16, x, y)
    cache.delete(GENERATION_KEY)
    approved(13.4001, 52.5001)  # a factory: no generation bump of its own
    after = get_tile(api_client, 16, x, y)
    assert len(features_of(after)) == len(features_of(first)) + 1


def test_a_tiles_etag_memo_rides_on_the_next_requests_throttle_round_trip(
    api_client, settings, django_assert_num_queries
):
    # Memo off: a revalidation can only be answered from the ETag kept in Redis.
    settings.TILE_PROCESS_MEMO_BYTES = 0
    from config import redis as placemap_redis
    from locations import tile_cache

    approved(13.4, 52.5)
    x, y = tile_xy(13.4, 52.5, 15)
    etag = get_tile(api_client, 15, x, y)["ETag"]
    generation = tile_cache.generation_read()
    name = tile_cache._key(generation, z=15, x=x, y=y, category=[], coding="identity")
    # Not a round trip of its own: queued for this process' next throttle pipeline ...
    assert placemap_redis.redis_client().exists(placemap_redis.key(name)) == 0
    # ... which the revalidation's own throttles send before it looks the ETag up.
    with django_assert_num_queries(0):
        again = get_tile(api_client, 15, x, y, HTTP_IF_NONE_MATCH=etag)
    assert (again.status_code, again["ETag"]) == (304, etag)
    ttl = placemap_redis.redis_client().ttl(placemap_redis.key(name))
    assert 0 < ttl <= settings.TILE_MAX_AGE
