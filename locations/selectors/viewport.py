"""GET /locations/viewport: the places in a bbox, or grid clusters of them, as one SQL
statement."""

from collections.abc import Sequence

from opentelemetry import trace

from locations import constants
from locations.geo import BBox, sql_envelope_overlaps
from locations.geojson import cluster_feature_sql, feature_collection_sql, feature_sql
from locations.selectors.clustering import SummaryPlan, cluster_cell_size, viewport_summary_plan
from locations.selectors.sql import run_public_read, text_and_category_filters

tracer = trace.get_tracer(__name__)

# A map marker needs little: the rest is one GET /locations/{id} away.
VIEWPORT_PROPERTIES = ("id", "name", "category", "address", "approved_at", "version")


def _summary_cells_sql(*, plan: SummaryPlan, categories: Sequence[str], params: dict) -> str:
    params.update(level=plan.level, size=plan.size, shift=plan.shift)
    inner, strips, outside_inner = [], [], []
    for index, env in enumerate(plan.envelopes):
        if env.ix1 < env.ix2:
            params.update(
                {f"ix1_{index}": env.ix1, f"ix2_{index}": env.ix2 - 1}
                | {f"iy1_{index}": env.iy1, f"iy2_{index}": env.iy2 - 1}
            )
            inner.append(
                f"(g.cx BETWEEN %(ix1_{index})s AND %(ix2_{index})s"
                f" AND g.cy BETWEEN %(iy1_{index})s AND %(iy2_{index})s)"
            )
            in_summary = (
                f"(locations_grid_cell(ST_X(l.point), %(size)s::float8)"
                f" BETWEEN %(ix1_{index})s AND %(ix2_{index})s"
                f" AND locations_grid_cell(ST_Y(l.point), %(size)s::float8)"
                f" BETWEEN %(iy1_{index})s AND %(iy2_{index})s)"
            )
        else:
            in_summary = "false"
        for number, strip in enumerate(env.strips):
            name = f"s{index}_{number}"
            params.update({f"{name}_{i}": value for i, value in enumerate(strip)})
            strips.append(sql_envelope_overlaps("l.point", [f"{name}_{i}" for i in range(4)]))
        # The viewport's own envelope, bound by BBox.sql_overlaps as x1_<index>, ...
        envelope = [f"{corner}_{index}" for corner in ("x1", "y1", "x2", "y2")]
        outside_inner.append(f"({sql_envelope_overlaps('l.point', envelope)} AND NOT {in_summary})")
    cell_filter = place_filter = ""
    if categories:
        params["categories"] = list(categories)
        cell_filter = "AND g.category = ANY(%(categories)s::text[])"
        place_filter = "AND l.category = ANY(%(categories)s::text[])"
    # Only fixed SQL fragments are interpolated; every value is a bound parameter.
    return f"""
cells AS (
    -- A cluster's bbox covers its members: the summary cells' edges inside, the strip
    -- places' own extent along the viewport's edges.
    SELECT sum(u.n) AS n, sum(u.sum_lon) / sum(u.n) AS lon, sum(u.sum_lat) / sum(u.n) AS lat,
           min(u.min_lon) AS min_lon, min(u.min_lat) AS min_lat,
           max(u.max_lon) AS max_lon, max(u.max_lat) AS max_lat
    FROM (
        SELECT g.cx >> %(shift)s AS gx, g.cy >> %(shift)s AS gy, sum(g.n) AS n,
               sum(g.sum_lon) AS sum_lon, sum(g.sum_lat) AS sum_lat,
               min(g.cx) * %(size)s::float8 AS min_lon, min(g.cy) * %(size)s::float8 AS min_lat,
               (max(g.cx) + 1) * %(size)s::float8 AS max_lon,
               (max(g.cy) + 1) * %(size)s::float8 AS max_lat
        FROM locations_gridcell g
        WHERE (SELECT clustered FROM overflow) AND g.level = %(level)s
          AND ({" OR ".join(inner)}) {cell_filter}
        GROUP BY 1, 2
        UNION ALL
        SELECT locations_grid_cell(p.x, %(size)s::float8)::int >> %(shift)s,
               locations_grid_cell(p.y, %(size)s::float8)::int >> %(shift)s,
               count(*), sum(locations_grid_sum_term(p.x)), sum(locations_grid_sum_term(p.y)),
               min(p.x), min(p.y), max(p.x), max(p.y)
        FROM (
            SELECT ST_X(l.point) AS x, ST_Y(l.point) AS y
            FROM locations_location l
            WHERE (SELECT clustered FROM overflow) AND l.status = 'approved'
              AND ({" OR ".join(strips)})
              AND ({" OR ".join(outside_inner)}) {place_filter}
            OFFSET 0
        ) p
        GROUP BY 1, 2
    ) u
    GROUP BY u.gx, u.gy
)"""  # noqa: S608


_RAW_CELLS = """
cells AS (
    -- Plain floats grouped by integer cell numbers: an order of magnitude cheaper than
    -- grouping geometries (ST_SnapToGrid) and aggregating them (ST_Collect/ST_Extent).
    -- Cell edges fall on multiples of the cell, and 180 and 0 are among them, so no cell
    -- holds places from both sides of the antimeridian.
    -- locations_grid_cell / _sum_term (migration 0003): floor(x / cell) and avg(x) that
    -- cannot underflow on a coordinate next to 0; the same cell numbers as the triggers.
    SELECT count(*) AS n, avg(locations_grid_sum_term(p.x)) AS lon,
           avg(locations_grid_sum_term(p.y)) AS lat,
           min(p.x) AS min_lon, min(p.y) AS min_lat, max(p.x) AS max_lon, max(p.y) AS max_lat
    FROM (
        SELECT ST_X(l.point) AS x, ST_Y(l.point) AS y
        FROM locations_location l
        WHERE (SELECT clustered FROM overflow) AND {where_sql}
        -- OFFSET 0 keeps this subquery apart, so ST_X/ST_Y run once per place instead
        -- of once per aggregate that uses them.
        OFFSET 0
    ) p
    GROUP BY locations_grid_cell(p.x, %(cell)s::float8), locations_grid_cell(p.y, %(cell)s::float8)
)"""


def locations_viewport_sql(
    *,
    bbox: BBox | tuple[float, float, float, float],
    zoom: int | None = None,
    q: str = "",
    category: Sequence[str] = (),
    limit: int = constants.VIEWPORT_LIMIT_DEFAULT,
    use_summary: bool = True,
) -> tuple[str, dict]:
    """Approved places inside a bbox, or grid clusters of them when more than `limit`.

    One statement. It reads up to limit+1 places; if they fit, they are the answer
    (`clustered: false`). Otherwise it groups every matching place into grid cells
    (`clustered: true`, each cluster with `count`, its members' mean position and extent), and
    the counts add up to `total`, the true number of places inside.

    Zoomed out, the clusters come from the GridCell summary (see viewport_summary_plan);
    `use_summary=False` forces the scan of every place (the reference the tests and the
    benchmark compare with).
    """
    viewport = BBox.of(bbox)
    overlaps, params = viewport.sql_overlaps("l.point")
    params["limit"] = limit
    where = ["l.status = 'approved'", overlaps]
    where += text_and_category_filters(q=q, categories=category, params=params)
    where_sql = " AND ".join(where)
    params["cell"] = cluster_cell_size(viewport=viewport, zoom=zoom, limit=limit)
    plan = (
        viewport_summary_plan(viewport=viewport, cell=params["cell"], q=q) if use_summary else None
    )
    if plan is None:
        cells_sql = _RAW_CELLS.format(where_sql=where_sql)
    else:
        cells_sql = _summary_cells_sql(plan=plan, categories=category, params=params)

    feature = feature_sql(properties=VIEWPORT_PROPERTIES)
    clusters = feature_collection_sql(
        f"COALESCE(json_agg({cluster_feature_sql('c')} ORDER BY c.n DESC, c.lon, c.lat),"
        " '[]'::json)",
        before=[
            ("clustered", "true"),
            ("total", "COALESCE(sum(c.n), 0)"),
            ("cell_size_deg", "%(cell)s::float8"),
        ],
    )
    places = feature_collection_sql(
        f"COALESCE(json_agg({feature} ORDER BY l.id), '[]'::json)",
        before=[("clustered", "false"), ("total", "count(*)")],
    )
    # Only fixed SQL fragments are interpolated; every value is a bound parameter.
    sql = f"""
WITH first_page AS MATERIALIZED (
    SELECT l.id, l.name, l.category, l.address, l.approved_at, l.version, l.point
    FROM locations_location l
    WHERE {where_sql}
    LIMIT %(limit)s + 1
),
overflow AS (SELECT count(*) > %(limit)s AS clustered FROM first_page),
{cells_sql}
SELECT CASE WHEN (SELECT clustered FROM overflow) THEN (
    SELECT {clusters}
    FROM cells c
) ELSE (
    SELECT {places}
    FROM first_page l
) END::text"""  # noqa: S608
    return sql, params


def locations_viewport_json(**viewport) -> str:
    """GET /locations/viewport as a GeoJSON FeatureCollection text."""
    with tracer.start_as_current_span("placemap.locations.viewport") as span:
        span.set_attribute("placemap.viewport.limit", viewport.get("limit", 0))
        span.set_attribute("placemap.viewport.zoom", viewport.get("zoom") or -1)
        return run_public_read(*locations_viewport_sql(**viewport))
