"""Reads of the OGC API - Features collection `places` (approved places only): a page of
items, one item, and the collection's extent. Each is one SQL statement under the public
read timeout; the GeoJSON is built by PostgreSQL (locations.geojson.feature_sql), so a
10,000-feature page costs no per-row Python.

Paging is keyset on the primary key: a page is the first `limit` places with
`id > after` (or, going back, the last `limit` with `id < before`), read through the
primary key or the spatial index, never an OFFSET that grows with the page number.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from opentelemetry import trace

from locations.geo import BBox
from locations.geojson import PUBLIC_PROPERTIES, feature_sql
from locations.models import GRID_LEVELS
from locations.selectors.sql import run_public_read, run_public_read_row

tracer = trace.get_tracer(__name__)

# Every public property but `status`: the collection holds approved places only.
OGC_PROPERTIES = tuple(name for name in PUBLIC_PROPERTIES if name != "status")
_COLUMNS = ", ".join(f"l.{name}" for name in (*OGC_PROPERTIES, "point"))


@dataclass(frozen=True)
class ItemsFilter:
    """The filters of GET /collections/places/items; `start`/`end` bound approved_at
    (inclusive, None for an open end); `end_exclusive` makes the end exclusive (a
    date's end is the next day's start)."""

    bbox: BBox | None = None
    categories: Sequence[str] = ()
    start: datetime | None = None
    end: datetime | None = None
    end_exclusive: bool = False

    @property
    def counts_cheaply(self) -> bool:
        # The grid summary counts approved places per cell and category, not per time or
        # per arbitrary box: only then is numberMatched one small index read.
        return self.bbox is None and self.start is None and self.end is None


@dataclass(frozen=True)
class ItemsPage:
    features: str  # the JSON array of Features, as PostgreSQL wrote it
    number_returned: int
    first_id: UUID | None
    last_id: UUID | None
    more: bool  # more places lie beyond the page in the direction it was read
    number_matched: int | None


def _where(filters: ItemsFilter, params: dict) -> list[str]:
    clauses = ["l.status = 'approved'"]
    if filters.bbox is not None:
        overlaps, bbox_params = filters.bbox.sql_overlaps("l.point")
        params.update(bbox_params)
        clauses.append(overlaps)
    if filters.categories:
        params["categories"] = list(filters.categories)
        clauses.append("l.category = ANY(%(categories)s::text[])")
    if filters.start is not None:
        params["start"] = filters.start
        clauses.append("l.approved_at >= %(start)s")
    if filters.end is not None:
        params["end"] = filters.end
        operator = "<" if filters.end_exclusive else "<="
        clauses.append(f"l.approved_at {operator} %(end)s")
    return clauses


def ogc_items_sql(
    *,
    filters: ItemsFilter,
    limit: int,
    after: UUID | None = None,
    before: UUID | None = None,
) -> tuple[str, dict]:
    """One page of items: (features, number returned, first id, last id, more,
    numberMatched or NULL). Only fixed SQL fragments are interpolated."""
    params: dict = {"limit": limit}
    where = _where(filters, params)
    descending = before is not None
    if after is not None:
        params["after"] = after
        where.append("l.id > %(after)s")
    if before is not None:
        params["before"] = before
        where.append("l.id < %(before)s")
    direction = "DESC" if descending else "ASC"
    if filters.counts_cheaply:
        params["level"] = GRID_LEVELS[0]
        category = "AND g.category = ANY(%(categories)s::text[])" if filters.categories else ""
        matched = (
            "(SELECT COALESCE(sum(g.n), 0) FROM locations_gridcell g"  # noqa: S608 (fixed)
            f" WHERE g.level = %(level)s {category})"
        )
    else:
        matched = "NULL::bigint"
    feature = feature_sql(properties=OGC_PROPERTIES)
    sql = f"""
WITH candidates AS MATERIALIZED (
    SELECT {_COLUMNS}
    FROM locations_location l
    WHERE {" AND ".join(where)}
    ORDER BY l.id {direction}
    LIMIT %(limit)s + 1
),
page AS MATERIALIZED (
    SELECT * FROM candidates ORDER BY id {direction} LIMIT %(limit)s
)
SELECT (SELECT COALESCE(json_agg({feature} ORDER BY l.id), '[]'::json)::text FROM page l),
       (SELECT count(*) FROM page),
       (SELECT id FROM page ORDER BY id LIMIT 1),
       (SELECT id FROM page ORDER BY id DESC LIMIT 1),
       (SELECT count(*) FROM candidates) > %(limit)s,
       {matched}"""  # noqa: S608
    return sql, params


def ogc_items_page(
    *,
    filters: ItemsFilter,
    limit: int,
    after: UUID | None = None,
    before: UUID | None = None,
) -> ItemsPage:
    """A page of approved places, ordered by id."""
    with tracer.start_as_current_span("placemap.locations.ogc_items") as span:
        span.set_attribute("placemap.ogc.limit", limit)
        row = run_public_read_row(
            *ogc_items_sql(filters=filters, limit=limit, after=after, before=before)
        )
    features, returned, first_id, last_id, more, matched = row
    return ItemsPage(
        features=features,
        number_returned=returned,
        first_id=first_id,
        last_id=last_id,
        more=more,
        number_matched=None if matched is None else int(matched),
    )


def ogc_item_json(*, location_id: UUID) -> str | None:
    """The Feature of one approved place as JSON text, or None (unknown or not approved:
    the two read alike)."""
    feature = feature_sql(properties=OGC_PROPERTIES)
    sql = f"""
SELECT (
    SELECT {feature}::text FROM locations_location l
    WHERE l.id = %(id)s AND l.status = 'approved'
)"""  # noqa: S608
    return run_public_read(sql, {"id": location_id})


# The nearest approved place to each edge of the world is an extreme of the extent: the
# distance from a place to the line lon = -180 is lon + 180, and so on. A KNN read
# (`<->` in ORDER BY) walks location_point_approved_gist, so each edge costs an index
# probe where ST_Extent would read every place.
_EDGES = {
    "west": ("ST_X", "LINESTRING(-180 -90, -180 90)"),
    "south": ("ST_Y", "LINESTRING(-180 -90, 180 -90)"),
    "east": ("ST_X", "LINESTRING(180 -90, 180 90)"),
    "north": ("ST_Y", "LINESTRING(-180 90, 180 90)"),
}


@dataclass(frozen=True)
class Extent:
    bbox: tuple[float, float, float, float] | None  # west, south, east, north
    first_approved: datetime | None
    last_approved: datetime | None


def ogc_places_extent_sql() -> str:
    edges = ",\n       ".join(
        f"(SELECT {axis}(l.point) FROM locations_location l WHERE l.status = 'approved'"  # noqa: S608
        f" ORDER BY l.point <-> ST_GeomFromText('{line}', 4326) LIMIT 1)"
        for axis, line in _EDGES.values()
    )
    return f"""
SELECT {edges},
       (SELECT min(l.approved_at) FROM locations_location l WHERE l.status = 'approved'),
       (SELECT max(l.approved_at) FROM locations_location l WHERE l.status = 'approved')"""  # noqa: S608


def ogc_places_extent() -> Extent:
    """The spatial extent (exact, of the approved places) and the approval times' span."""
    west, south, east, north, first, last = run_public_read_row(ogc_places_extent_sql(), {})
    bbox = None if west is None else (west, south, east, north)
    return Extent(bbox=bbox, first_approved=first, last_approved=last)
