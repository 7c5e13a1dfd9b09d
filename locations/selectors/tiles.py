"""GET /tiles/{z}/{x}/{y}.mvt and /tiles.json: Mapbox Vector Tiles of the approved places,
encoded by PostGIS (ST_AsMVT) in one statement, and the TileJSON describing them.

Zoomed in (z > TILE_CLUSTER_MAX_ZOOM) a tile holds one point per place. Zoomed out it
holds grid clusters with Supercluster's property names, so stock MapLibre cluster styles
work; a cell holding one place is that place. Clusters are read like the viewport's
(locations.selectors.clustering): in degrees a web-mercator tile is a box whose
longitudes are multiples of 360 / 2**z, so the summary grid's cells nest in it across,
while its latitudes fall anywhere; the summary cells sticking out at its edges become the
edge strips read from the places through the GiST index. Every place inside the tile is
counted once, so point_count adds up to the true number of places in the tile.
"""

import json
import math
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from opentelemetry import trace

from locations.geo import BBox, sql_envelope_overlaps
from locations.models import GRID_LEVELS
from locations.selectors.clustering import SUMMARY_SUBDIVISION
from locations.selectors.sql import run_public_read

tracer = trace.get_tracer(__name__)

TILE_LAYER = "places"
TILE_EXTENT = 4096
# Pixels (of TILE_EXTENT) a zoomed-in tile also carries beyond its edges, so a marker
# drawn across the edge is not cut in half by the neighbouring tile.
TILE_BUFFER = 64
TILE_ZOOM_MAX = 22
# Clusters are cells of 1/TILE_CLUSTER_CELLS of a tile's width: 64 px of a 512 px tile.
TILE_CLUSTER_CELLS = 8
# Web mercator stops here; places further north or south are drawn on its edge.
MERCATOR_LAT_MAX = 85.0511287798066
EARTH_RADIUS_M = 6378137.0

# The places layer's attributes (TileJSON vector_layers.fields). Clusters also carry
# count_<category> for each category present in them.
TILE_FIELDS = {
    "id": "String: the place's id (a single place)",
    "name": "String: the place's name (a single place)",
    "category": "String: the place's category slug (a single place)",
    "cluster": "Boolean: true on a cluster",
    "cluster_id": "Number: the cluster's grid cell, unique within its zoom",
    "point_count": "Number: places in the cluster",
    "point_count_abbreviated": "String: point_count for a label (1.2k, 35k)",
    "count_<category>": "Number: the cluster's places of that category",
}


@dataclass(frozen=True)
class Tile:
    z: int
    x: int
    y: int

    def bbox(self, *, margin: float = 0.0) -> BBox:
        """The tile in degrees, widened by `margin` (a fraction of its width) on each side.

        The top and bottom rows reach the poles: places beyond mercator's 85.05 degrees
        are drawn on the map's edge rather than nowhere."""
        n = 2**self.z
        # Exact in binary: x / n is a power-of-two fraction, so the edges are the
        # multiples of 360 / 2**z the summary grid's edges fall on.
        lon1 = max(-180.0, (self.x - margin) / n * 360.0 - 180.0)
        lon2 = min(180.0, (self.x + 1 + margin) / n * 360.0 - 180.0)
        top = 90.0 if self.y - margin <= 0 else _tile_lat(self.y - margin, n)
        bottom = -90.0 if self.y + 1 + margin >= n else _tile_lat(self.y + 1 + margin, n)
        return BBox(lon1, bottom, lon2, top)


def _tile_lat(row: float, n: int) -> float:
    return math.degrees(math.atan(math.sinh(math.pi * (1 - 2 * row / n))))


def abbreviate_count(count: int) -> str:
    """Supercluster's point_count_abbreviated: 950, 1.2k, 35k."""
    if count >= 10_000:
        return f"{round(count / 1000)}k"
    if count >= 1000:
        return f"{round(count / 100) / 10:g}k"
    return str(count)


# ST_AsMVTGeom wants tile coordinates in the tile envelope's SRID (3857); the mercator
# formula on the clamped latitude is cheaper than ST_Transform per point.
def _mercator_point(lon: str, lat: str) -> str:
    clamped = f"greatest(least({lat}, {MERCATOR_LAT_MAX}), -{MERCATOR_LAT_MAX})"
    return (
        f"ST_SetSRID(ST_MakePoint(radians({lon}) * {EARTH_RADIUS_M},"
        f" ln(tan(radians(90 + {clamped}) / 2)) * {EARTH_RADIUS_M}), 3857)"
    )


def _mvt_geom(lon: str, lat: str) -> str:
    return (
        f"ST_AsMVTGeom({_mercator_point(lon, lat)},"
        f" ST_TileEnvelope(%(z)s, %(x)s, %(y)s), {TILE_EXTENT}, {TILE_BUFFER}, true)"
    )


_ABBREVIATED = """CASE WHEN c.n >= 10000 THEN round(c.n / 1000.0)::text || 'k'
              WHEN c.n >= 1000 THEN trim_scale(round(c.n / 1000.0, 1))::text || 'k'
              ELSE c.n::text END"""


def _category_filter(column: str, categories: Sequence[str], params: dict) -> str:
    if not categories:
        return ""
    params["categories"] = list(categories)
    return f"AND {column} = ANY(%(categories)s::text[])"


# Opts a statement in to location_tile_cover_gist, whose predicate it states (the column
# is NOT NULL, so it filters nothing): see locations.models.Location.Meta.indexes.
TILE_COVER_CLAUSE = "l.category IS NOT NULL"


# The OFFSET 0 fence: without it PostgreSQL pulls the subquery up and evaluates the tile
# geometry (mercator point, ST_AsMVTGeom) twice per place, once in the scan's filter
# (`geom IS NOT NULL`) and again for ST_AsMVT. Fenced, the scan computes it once and the
# filter reads the result; the scan (so the features' order, and the ETag) is the same:
# ~8% less PostgreSQL CPU per z 15 tile (docs/benchmarks.md, "Cold tiles at z 15").
def _places_tile_sql(*, tile: Tile, categories: Sequence[str], params: dict) -> str:
    overlaps, envelope = tile.bbox(margin=TILE_BUFFER / TILE_EXTENT).sql_overlaps("l.point")
    params.update(envelope)
    category = _category_filter("l.category", categories, params)
    return f"""
SELECT ST_AsMVT(t, '{TILE_LAYER}', {TILE_EXTENT}, 'geom')
FROM (
    SELECT {_mvt_geom("ST_X(l.point)", "ST_Y(l.point)")} AS geom,
           l.id::text AS id, l.name, l.category
    FROM locations_location l
    WHERE l.status = 'approved' AND {TILE_COVER_CLAUSE} AND {overlaps} {category}
    OFFSET 0  -- the tile geometry once per place (above)
) t
WHERE t.geom IS NOT NULL"""  # noqa: S608 (fixed fragments; values are bound)


@dataclass(frozen=True)
class SummaryRows:
    """Summary cells (level, cx in [ix1, ix2], cy in [iy1, iy2]) lying wholly inside a tile."""

    level: int
    ix1: int
    ix2: int
    iy1: int
    iy2: int


@dataclass(frozen=True)
class TilePlan:
    """How a clustered tile reads the summary: `rows` from locations_gridcell, the places
    in `strips` (envelopes) that lie in none of them from locations_location."""

    rows: tuple[SummaryRows, ...]
    strips: tuple[tuple[float, float, float, float], ...]


def tile_summary_plan(bbox: BBox, cluster_level: int) -> TilePlan | None:
    """Split a tile into whole summary cells and thin strips of places, or None when
    the summary has no level fine enough for these clusters.

    Across, the tile's edges are multiples of 360 / 2**z, so every summary level finer
    than z tiles it exactly. Up and down they are not: the coarsest usable level covers
    the rows of cells wholly inside; the two bands left at the top and bottom are covered
    by the next finer level's rows, and so on down to the finest level, whose leftover
    bands (under 0.006 degrees, ~600 m) are read from the places. One level alone would
    leave bands up to a coarse cell tall, which at z 4 (1.4 degrees) can cut through a
    whole city: tens of thousands of places to read instead of a few hundred rows.
    """
    levels = [lv for lv in GRID_LEVELS if lv >= cluster_level + SUMMARY_SUBDIVISION]
    if not levels:
        return None
    x1, y1, x2, y2 = bbox.envelopes[0]  # a tile never crosses the antimeridian
    rows: list[SummaryRows] = []
    bands = [(y1, y2)]
    for level in levels:
        size = 360.0 / 2**level
        ix1, ix2 = round(x1 / size), round(x2 / size) - 1  # exact: edges are multiples
        leftover = []
        for low, high in bands:
            first, end = _inner_cells(low, high, size)
            if first >= end:
                leftover.append((low, high))
                continue
            rows.append(SummaryRows(level, ix1, ix2, first, end - 1))
            leftover += [(low, first * size), (end * size, high)]
        bands = leftover
    if not rows:
        return None
    # The bands left, and two lines: the top and east edges of the tile. A place on them
    # lies in the next row or column of cells, outside the rows, yet inside the tile
    # (edges included). A band of no height elsewhere is a row's lower edge: its places
    # are in that row.
    strips = [(x1, low, x2, high) for low, high in bands if low < high]
    strips.append((x1, y2, x2, y2))
    strips.append((x2, y1, x2, y2))
    return TilePlan(tuple(rows), tuple(strips))


def _summary_parts_sql(
    *, plan: TilePlan, cluster_level: int, category: str, params: dict
) -> tuple[str, str, str]:
    """The plan's rows as a VALUES list, the clusters' sums read from them, and the test
    "this place lies in none of them" that keeps the strips from counting a place twice.

    One parameterised index scan per row range (a nested loop over the VALUES) rather
    than one UNION branch each: planning a statement with a dozen branches took longer
    than running it."""
    values = []
    for index, rows in enumerate(plan.rows):
        names = [
            f"r{index}_{key}" for key in ("level", "size", "shift", "ix1", "ix2", "iy1", "iy2")
        ]
        params.update(
            zip(
                names,
                (
                    rows.level,
                    360.0 / 2**rows.level,
                    rows.level - cluster_level,
                    rows.ix1,
                    rows.ix2,
                    rows.iy1,
                    rows.iy2,
                ),
                strict=True,
            )
        )
        level, size, shift, ix1, ix2, iy1, iy2 = (f"%({name})s" for name in names)
        values.append(
            f"({level}::int, {size}::float8, {shift}::int,"
            f" {ix1}::int, {ix2}::int, {iy1}::int, {iy2}::int)"
        )
    rows_cte = f"""
summary_rows(level, size, shift, ix1, ix2, iy1, iy2) AS (
    VALUES {", ".join(values)}
),"""
    summary = f"""
    SELECT g.cx >> r.shift, g.cy >> r.shift, g.category,
           sum(g.n), sum(g.sum_lon), sum(g.sum_lat)
    FROM summary_rows r
    JOIN locations_gridcell g
      ON g.level = r.level AND g.cy BETWEEN r.iy1 AND r.iy2 AND g.cx BETWEEN r.ix1 AND r.ix2
    WHERE true {category.replace("l.", "g.")}
    GROUP BY 1, 2, 3
    UNION ALL"""  # noqa: S608 (a fixed fragment)
    strips = []
    for number, strip in enumerate(plan.strips):
        names_ = [f"s{number}_{i}" for i in range(4)]
        params.update(zip(names_, strip, strict=True))
        strips.append(sql_envelope_overlaps("l.point", names_))
    not_in_rows = """NOT EXISTS (
            SELECT FROM summary_rows r
            WHERE locations_grid_cell(ST_X(l.point), r.size) BETWEEN r.ix1 AND r.ix2
              AND locations_grid_cell(ST_Y(l.point), r.size) BETWEEN r.iy1 AND r.iy2)"""
    return rows_cte, summary, f"({' OR '.join(strips)}) AND {not_in_rows}"


def _inner_cells(low: float, high: float, size: float) -> tuple[int, int]:
    # Whole cells [first, end) inside [low, high] (as locations.selectors.clustering).
    first, end = math.ceil(low / size), math.floor(high / size)
    while first * size < low:
        first += 1
    while end * size > high:
        end -= 1
    return first, end


def _clusters_tile_sql(*, tile: Tile, categories: Sequence[str], params: dict) -> str:
    bbox = tile.bbox()
    overlaps, envelope = bbox.sql_overlaps("l.point")
    params.update(envelope)
    params.update(tx1=bbox.min_lon, ty1=bbox.min_lat, tx2=bbox.max_lon, ty2=bbox.max_lat)
    cluster_level = tile.z + int(math.log2(TILE_CLUSTER_CELLS))
    cell = 360.0 / 2**cluster_level
    params["cell"] = cell
    category = _category_filter("l.category", categories, params)
    plan = tile_summary_plan(bbox, cluster_level)
    rows_cte, summary, places_where = "", "", "true"
    if plan is not None:
        rows_cte, summary, places_where = _summary_parts_sql(
            plan=plan, cluster_level=cluster_level, category=category, params=params
        )
    # The part of cell (gx, gy) inside the tile.
    one_place_in_cell = (
        "l.point && ST_MakeEnvelope("
        "greatest(c.gx * %(cell)s::float8, %(tx1)s::float8),"
        " greatest(c.gy * %(cell)s::float8, %(ty1)s::float8),"
        " least((c.gx + 1) * %(cell)s::float8, %(tx2)s::float8),"
        " least((c.gy + 1) * %(cell)s::float8, %(ty2)s::float8), 4326)"
    )
    # Cluster ids: the cell's (gx, gy) packed into one integer, unique within a zoom.
    params["across"] = 2**cluster_level
    return f"""
WITH {rows_cte}
parts(gx, gy, category, n, sum_lon, sum_lat) AS (
    {summary}
    SELECT locations_grid_cell(p.x, %(cell)s::float8)::int,
           locations_grid_cell(p.y, %(cell)s::float8)::int, p.category,
           count(*), sum(locations_grid_sum_term(p.x)), sum(locations_grid_sum_term(p.y))
    FROM (
        SELECT ST_X(l.point) AS x, ST_Y(l.point) AS y, l.category
        FROM locations_location l
        WHERE l.status = 'approved' AND {overlaps} AND {places_where} {category}
        OFFSET 0  -- ST_X/ST_Y once per place, not once per aggregate
    ) p
    GROUP BY 1, 2, 3
),
by_category AS (
    SELECT gx, gy, category, sum(n)::bigint AS n, sum(sum_lon) AS sum_lon,
           sum(sum_lat) AS sum_lat
    FROM parts GROUP BY 1, 2, 3
),
cells AS (
    SELECT gx, gy, sum(n)::bigint AS n, sum(sum_lon) / sum(n) AS lon,
           sum(sum_lat) / sum(n) AS lat,
           jsonb_object_agg('count_' || category, n) AS counts
    FROM by_category GROUP BY 1, 2
),
features AS (
    SELECT c.n, c.gx, c.gy, one.id, one.name, one.category,
           {_mvt_geom("COALESCE(one.x, c.lon)", "COALESCE(one.y, c.lat)")} AS geom,
           CASE WHEN one.id IS NULL THEN true END AS cluster,
           CASE WHEN one.id IS NULL THEN (c.gy + %(across)s) * (2 * %(across)s::bigint)
                                         + (c.gx + %(across)s) END AS cluster_id,
           CASE WHEN one.id IS NULL THEN c.n END AS point_count,
           CASE WHEN one.id IS NULL THEN {_ABBREVIATED} END AS point_count_abbreviated,
           CASE WHEN one.id IS NULL THEN c.counts END AS counts
    FROM cells c
    -- A cell holding one place is that place: the one approved place of the cell
    -- inside the tile (the cell numbers as the triggers compute them).
    LEFT JOIN LATERAL (
        SELECT l.id::text AS id, l.name, l.category, ST_X(l.point) AS x, ST_Y(l.point) AS y
        FROM locations_location l
        WHERE c.n = 1 AND l.status = 'approved' AND {one_place_in_cell}
          AND locations_grid_cell(ST_X(l.point), %(cell)s::float8) = c.gx
          AND locations_grid_cell(ST_Y(l.point), %(cell)s::float8) = c.gy {category}
        LIMIT 1
    ) one ON true
)
SELECT ST_AsMVT(t, '{TILE_LAYER}', {TILE_EXTENT}, 'geom')
FROM (
    SELECT geom, id, name, category, cluster, cluster_id, point_count,
           point_count_abbreviated, counts
    FROM features
    WHERE geom IS NOT NULL
    -- Biggest first: MapLibre places a tile's symbols in order when they collide.
    ORDER BY n DESC, gx, gy
) t"""  # noqa: S608 (fixed fragments; values are bound)


def locations_tile_sql(*, z: int, x: int, y: int, category: Sequence[str] = ()) -> tuple[str, dict]:
    """One tile of the `places` layer as one statement returning the MVT bytes."""
    tile = Tile(z, x, y)
    params: dict = {"z": z, "x": x, "y": y}
    if z > settings.TILE_CLUSTER_MAX_ZOOM:
        return _places_tile_sql(tile=tile, categories=category, params=params), params
    return _clusters_tile_sql(tile=tile, categories=category, params=params), params


def locations_tile_mvt(*, z: int, x: int, y: int, category: Sequence[str] = ()) -> bytes:
    """The tile's bytes; empty when no place is in it."""
    with tracer.start_as_current_span("placemap.locations.tile") as span:
        span.set_attribute("placemap.tile.z", z)
        value = run_public_read(*locations_tile_sql(z=z, x=x, y=y, category=category))
        return bytes(value) if value else b""


@dataclass(frozen=True)
class TileSetSummary:
    bounds: tuple[float, float, float, float] | None  # None without approved places
    center: tuple[float, float] | None


# Bounds from the finest level: four index probes (min/max cx through the primary key,
# min/max cy through gridcell_level_row), as cheap as a coarse level and ~600 m exact.
BOUNDS_LEVEL = 16
# The busiest cell of this level (1.4 degrees) is the map's first view.
CENTER_LEVEL = 8


def tileset_summary() -> TileSetSummary:
    """Bounds of the approved places (outward to BOUNDS_LEVEL's cells) and the mean
    position of the busiest CENTER_LEVEL cell, from the grid summary alone."""
    sql = f"""
SELECT json_build_array(
    json_build_array(
        (SELECT min(cx) FROM locations_gridcell WHERE level = {BOUNDS_LEVEL}),
        (SELECT min(cy) FROM locations_gridcell WHERE level = {BOUNDS_LEVEL}),
        (SELECT max(cx) + 1 FROM locations_gridcell WHERE level = {BOUNDS_LEVEL}),
        (SELECT max(cy) + 1 FROM locations_gridcell WHERE level = {BOUNDS_LEVEL})),
    (SELECT json_build_array(sum(sum_lon) / sum(n), sum(sum_lat) / sum(n))
     FROM locations_gridcell WHERE level = {CENTER_LEVEL}
     GROUP BY cx, cy ORDER BY sum(n) DESC, cx, cy LIMIT 1)
)::text"""  # noqa: S608 (constants only)
    cells, center = json.loads(str(run_public_read(sql, {})))
    if cells is None or cells[0] is None:
        return TileSetSummary(bounds=None, center=None)
    size = 360.0 / 2**BOUNDS_LEVEL
    min_lon, min_lat, max_lon, max_lat = (value * size for value in cells)
    bounds = (
        max(min_lon, -180.0),
        max(min_lat, -MERCATOR_LAT_MAX),
        min(max_lon, 180.0),
        min(max_lat, MERCATOR_LAT_MAX),
    )
    return TileSetSummary(bounds=bounds, center=(center[0], center[1]) if center else None)
