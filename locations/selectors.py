"""Reads of places.

The public list reads (radius/text search and viewport) are single SQL statements that
return the finished GeoJSON document as text: the features are built by Postgres
(json_build_object, ST_AsGeoJSON, json_agg) and handed to the client as they are, with no
per-row Python. Each has a `*_sql()` builder returning (sql, params) so the benchmark can
run the very same statement against Postgres directly; parameters use psycopg's
%(name)s style and every value is a bound parameter.

Index contract (see locations.models):
- radius: `point::geography(POINT,4326)` with `status = 'approved'` hits
  location_geog_approved_gist; any other spelling of the cast misses it;
- viewport: `point && ST_MakeEnvelope(...)` with `status = 'approved'` hits
  location_point_approved_gist;
- text: `search_vector @@ websearch_to_tsquery('english', q)` (constants.SEARCH_CONFIG)
  hits location_search_gin (text + a small radius deliberately tests the words on the
  circle's places instead, see locations_search_sql).
"""

import math
from collections.abc import Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC
from uuid import UUID

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Prefetch, Q, QuerySet
from opentelemetry import trace

from accounts.selectors import user_is_moderator
from locations import constants
from locations.models import GRID_LEVELS, Location, LocationStatus
from media_store.models import Image, ImageStatus
from media_store.selectors import image_public_dict

tracer = trace.get_tracer(__name__)

# --- Detail, owner lists and the live feed's Feature -------------------------------------


def _public_images() -> Prefetch:
    # Photos still processing (or failed) have no objects to show yet.
    return Prefetch(
        "images",
        queryset=Image.objects.filter(status=ImageStatus.READY).order_by("created_at", "id"),
    )


def _iso(value) -> str | None:
    # The same text as _sql_iso() writes, so a place reads the same in detail (Python)
    # and in search/viewport (SQL): UTC, always microseconds, "Z" as DRF writes it.
    if value is None:
        return None
    return value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _sql_iso(column: str) -> str:
    # AT TIME ZONE 'UTC': independent of the session's TimeZone (the benchmark's raw
    # psycopg connection need not set it).
    return f"""to_char({column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"')"""


def location_feature(location: Location) -> dict:
    """The GeoJSON Feature of one place; `location.images` should be prefetched with
    _public_images() (the other selectors here do that)."""
    return {
        "type": "Feature",
        "id": str(location.id),
        "geometry": {
            "type": "Point",
            "coordinates": [
                round(location.point.x, constants.COORDINATE_DECIMALS),
                round(location.point.y, constants.COORDINATE_DECIMALS),
            ],
        },
        "properties": {
            "id": str(location.id),
            "name": location.name,
            "description": location.description,
            "category": location.category,
            "address": location.address,
            "status": location.status,
            "created_at": _iso(location.created_at),
            "updated_at": _iso(location.updated_at),
            "approved_at": _iso(location.approved_at),
            "images": [image_public_dict(image) for image in location.images.all()],
        },
    }


def location_public_feature(*, location_id) -> dict:
    """The Feature of a place, as GET /locations/{id} shows it (the live feed sends it
    when a place is approved). Reads inside the caller's transaction, so a place
    approved in it is seen as approved. Raises Location.DoesNotExist."""
    location = Location.objects.prefetch_related(_public_images()).get(id=location_id)
    return location_feature(location)


def visible_locations(*, user) -> QuerySet[Location]:
    """Places `user` may read: approved ones for everybody, plus their own in any status,
    plus everything for moderators."""
    queryset = Location.objects.prefetch_related(_public_images())
    if user_is_moderator(user):
        return queryset
    if getattr(user, "is_authenticated", False):
        return queryset.filter(Q(status=LocationStatus.APPROVED) | Q(submitter=user))
    return queryset.filter(status=LocationStatus.APPROVED)


def location_get_visible(*, location_id, user) -> Location | None:
    """One place if `user` may see it; an unknown id and an invisible one look alike."""
    return visible_locations(user=user).filter(id=location_id).first()


def locations_of_submitter(*, user) -> QuerySet[Location]:
    """GET /me/locations: the user's own places in every status, newest first."""
    return (
        Location.objects.filter(submitter=user)
        .prefetch_related(_public_images())
        .order_by("-created_at", "-id")
    )


# --- Moderators' reads (moderation and the digest call these) ------------------------


def locations_for_review(*, status: str = LocationStatus.PENDING) -> QuerySet[Location]:
    """Places in `status`, oldest first (the longest waiting is decided first), with
    their submitter and ready photos loaded. Served by the (status, created_at) index."""
    return (
        Location.objects.filter(status=status)
        .select_related("submitter")
        .prefetch_related(_public_images())
        .order_by("created_at", "id")
    )


def location_for_review(*, location_id: UUID | str) -> Location:
    """One place in any status, loaded like a review queue entry. Raises
    Location.DoesNotExist."""
    return (
        Location.objects.select_related("submitter")
        .prefetch_related(_public_images())
        .get(pk=location_id)
    )


def location_exists(*, location_id: UUID | str) -> bool:
    """Whether a place with this id exists, in any status."""
    return Location.objects.filter(pk=location_id).exists()


def locations_pending_digest(*, limit: int) -> tuple[int, list[dict]]:
    """How many places wait for review, and the `limit` oldest of them (the moderators'
    digest lists those first: they have waited longest)."""
    pending = Location.objects.filter(status=LocationStatus.PENDING)
    rows = pending.order_by("created_at", "id").values("id", "name", "category", "created_at")[
        :limit
    ]
    places = [
        {
            "location_id": str(row["id"]),
            "location_name": row["name"],
            "category": constants.CATEGORIES.get(row["category"], row["category"]),
            # isoformat(), not the GeoJSON text: the digest's context is stored with
            # its notification and has always carried this form.
            "submitted_at": row["created_at"].isoformat(),
        }
        for row in rows
    ]
    return pending.count(), places


def unusable_image_ids(*, image_ids: Sequence[UUID], uploader, lock: bool = False) -> list[UUID]:
    """The ids among `image_ids` that `uploader` cannot attach to a new place: unknown,
    someone else's, already attached, or failed. With lock=True the usable rows stay
    locked (SELECT ... FOR UPDATE) until the caller's transaction ends, so two
    submissions cannot both attach the same photo."""
    queryset = Image.objects.filter(id__in=image_ids).order_by("id")
    if lock:
        queryset = queryset.select_for_update()
    usable = {
        row["id"]
        for row in queryset.values("id", "uploader_id", "location_id", "status")
        if row["uploader_id"] == uploader.pk
        and row["location_id"] is None
        and row["status"] != ImageStatus.FAILED
    }
    return [image_id for image_id in image_ids if image_id not in usable]


# --- Public list reads: SQL builders ------------------------------------------------------

_FEATURE_HEAD = """json_build_object(
    'type', 'Feature',
    'id', l.id,
    'geometry', ST_AsGeoJSON(l.point, {decimals})::json,
    'properties', json_build_object(
        'id', l.id, 'name', l.name, 'category', l.category, 'address', l.address,
        {extra}
    )
)"""


# The text search configuration must be the generated column's (locations.models), or
# the GIN index cannot answer; it is a constant of ours, never user input.
_TSQUERY = f"websearch_to_tsquery('{constants.SEARCH_CONFIG}', %(q)s)"


def _text_and_category_filters(*, q: str, categories: Sequence[str], params: dict) -> list[str]:
    clauses = []
    if q:
        params["q"] = q
        clauses.append(f"l.search_vector @@ {_TSQUERY}")
    if categories:
        params["categories"] = list(categories)
        clauses.append("l.category = ANY(%(categories)s::text[])")
    return clauses


def locations_search_sql(
    *,
    lat: float | None = None,
    lon: float | None = None,
    radius: int = constants.SEARCH_RADIUS_DEFAULT_M,
    q: str = "",
    category: Sequence[str] = (),
    ordering: str | None = None,
    limit: int = constants.SEARCH_LIMIT_DEFAULT,
    offset: int = 0,
    next_url: str | None = None,
) -> tuple[str, dict]:
    """Radius search (lat/lon/radius), text search (q), or both, approved places only.

    One statement: the page is fetched with one row more than `limit` (no COUNT) and the
    FeatureCollection's `next` is `next_url` exactly when that extra row exists.
    """
    spatial = lat is not None and lon is not None
    if ordering is None:
        ordering = "distance" if spatial else "relevance"
    if not spatial and not q:
        raise ValueError("a search needs lat/lon, q, or both")
    if ordering == "relevance" and not q:
        raise ValueError("relevance ordering needs q")
    if ordering == "distance" and not spatial:
        raise ValueError("distance ordering needs lat/lon")

    params: dict = {"limit": limit, "offset": offset, "next_url": next_url}
    where = ["l.status = 'approved'"]
    from_items = ["locations_location l"]
    if spatial:
        params.update(lon=lon, lat=lat, radius=float(radius))
        from_items.append(
            "(SELECT ST_SetSRID(ST_MakePoint(%(lon)s::float8, %(lat)s::float8), 4326)"
            "::geography AS g) origin"
        )
        where.append("ST_DWithin(l.point::geography(POINT,4326), origin.g, %(radius)s::float8)")
        # `<->` on geography is the sphere distance in metres, and ordering by it lets the
        # GiST index hand rows over nearest first (KNN), stopping after the page instead
        # of fetching and sorting the whole disc: 5x the throughput at 1M places
        # (docs/benchmarks.md). It differs from the spheroid distance by < 0.5 %.
        distance = "l.point::geography(POINT,4326) <-> origin.g"
    else:
        distance = "NULL::float8"
    spatial_first = spatial and radius <= constants.SEARCH_SPATIAL_FIRST_MAX_M
    if q and spatial_first:
        # ts_match_vq() is what the @@ operator calls, but as a function it cannot use
        # the GIN index: the words are tested on the circle's few places only (see
        # constants.SEARCH_SPATIAL_FIRST_MAX_M for the measurements).
        params["q"] = q
        where.append("ts_match_vq(l.search_vector, query)")
        where += _text_and_category_filters(q="", categories=category, params=params)
    else:
        where += _text_and_category_filters(q=q, categories=category, params=params)
    if q:
        from_items.append(f"{_TSQUERY} query")
        rank = "ts_rank_cd(l.search_vector, query)"
    else:
        rank = "NULL::float4"

    # The page subquery exposes plain column names, so one ORDER BY text serves both the
    # LIMIT and the row numbering that keeps json_agg in the same order.
    if ordering == "relevance":
        order = "rank DESC, distance_m ASC NULLS LAST, id" if spatial else "rank DESC, id"
        page_order = order
    else:
        order = "distance_m, id"
        # The KNN index scan orders by the distance alone; a second key would force a
        # full sort. Exact ties (the same point) are ordered by id within the page.
        page_order = "distance_m"

    feature = _FEATURE_HEAD.format(
        decimals=constants.COORDINATE_DECIMALS,
        extra=f"""'description', l.description, 'status', l.status,
        'created_at', {_sql_iso("l.created_at")}, 'updated_at', {_sql_iso("l.updated_at")},
        'approved_at', {_sql_iso("l.approved_at")},
        'distance_m', round(l.distance_m::numeric, 1)""",
    )
    # Only fixed SQL fragments are interpolated; every value is a bound parameter.
    sql = f"""
SELECT json_build_object(
    'type', 'FeatureCollection',
    'features', COALESCE(
        json_agg(page.feature ORDER BY page.position) FILTER (WHERE page.position <= %(limit)s),
        '[]'::json),
    'next', CASE WHEN count(*) > %(limit)s THEN %(next_url)s::text END
)::text
FROM (
    SELECT row_number() OVER (ORDER BY {order}) AS position,
           {feature} AS feature
    FROM (
        SELECT l.id, l.name, l.description, l.category, l.address, l.status, l.point,
               l.created_at, l.updated_at, l.approved_at,
               {distance} AS distance_m, {rank} AS rank
        FROM {", ".join(from_items)}
        WHERE {" AND ".join(where)}
        ORDER BY {page_order}
        LIMIT %(limit)s + 1 OFFSET %(offset)s
    ) l
) page"""  # noqa: S608
    return sql, params


@dataclass(frozen=True)
class Viewport:
    """A lon/lat rectangle, split in two at the antimeridian when min_lon > max_lon."""

    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def envelopes(self) -> list[tuple[float, float, float, float]]:
        if self.min_lon <= self.max_lon:
            return [(self.min_lon, self.min_lat, self.max_lon, self.max_lat)]
        return [
            (self.min_lon, self.min_lat, 180.0, self.max_lat),
            (-180.0, self.min_lat, self.max_lon, self.max_lat),
        ]


def cluster_cell_size(*, viewport: Viewport, zoom: int | None, limit: int) -> float:
    """Grid cell (degrees) for clustering a viewport.

    Cells are 360 / 2**k degrees with edges on multiples of the cell, so the grid stays
    put while a map pans. Start from the zoom (about 64 px cells) or, without
    a zoom, from a fine grid, and coarsen until the cells the viewport can touch fit in
    `limit` — a clustered answer is never longer than a plain one.
    """
    # Without a zoom, start below a metre and let the loop coarsen.
    k = zoom + int(math.log2(constants.CLUSTER_CELLS_PER_TILE)) if zoom is not None else 30
    while k > 0:
        cell = 360.0 / 2**k
        touched = sum(
            (math.floor((x2 - x1) / cell) + 2) * (math.floor((y2 - y1) / cell) + 2)
            for x1, y1, x2, y2 in viewport.envelopes
        )
        if touched <= limit:
            return cell
        k -= 1
    return 360.0


# --- Zoomed-out clusters from the GridCell summary ------------------------------------
# Counting every place of a continent-wide viewport takes seconds at 1M places; the
# summary (locations.models.GridCell, kept by triggers) already holds per-cell counts and
# coordinate sums. A viewport splits into the summary cells lying wholly inside it (read
# from the summary) and the thin strips along its edges where summary cells stick out
# (read from the places, through the GiST index). Every place inside lies in exactly one
# of the two, by the same float8 cell number locations_grid_cell(lon, size) (floor(lon /
# size) without underflow, migration 0003) the triggers store, so the
# counts still add up to the true total.

# Clusters read summary cells at least 2**SUMMARY_SUBDIVISION times finer per edge. Finer
# means thinner edge strips but more summary rows to add up: on 1M places (docs/places.md)
# 1 beat 2 and 3 (Europe at limit 500: 13 ms vs 112 ms and 42 ms; noisy machine), since
# the strips go through the GiST index while summary rows are read one by one.
SUMMARY_SUBDIVISION = 1


@dataclass(frozen=True)
class SummaryEnvelope:
    """One envelope of a viewport against the summary grid: its places in cells
    cx in [ix1, ix2), cy in [iy1, iy2) come from the summary, the rest from `strips`."""

    envelope: tuple[float, float, float, float]
    ix1: int
    ix2: int
    iy1: int
    iy2: int
    strips: tuple[tuple[float, float, float, float], ...]


@dataclass(frozen=True)
class SummaryPlan:
    level: int  # GridCell level read
    size: float  # its cell, 360 / 2**level degrees
    shift: int  # a summary cell number >> shift is its cluster's cell number
    envelopes: tuple[SummaryEnvelope, ...]


def viewport_summary_plan(*, viewport: Viewport, cell: float, q: str = "") -> SummaryPlan | None:
    """How a clustered viewport reads the summary, or None when it should count places.

    None for a text filter (the summary has no words: the places matching `q` are
    counted, the GIN index narrowing them), for clusters finer than the finest level
    allows, and when no summary cell fits inside the viewport (nothing to gain).
    """
    if q:
        return None
    cluster_level = round(math.log2(360.0 / cell))
    level = next((lv for lv in GRID_LEVELS if lv >= cluster_level + SUMMARY_SUBDIVISION), None)
    if level is None:
        return None
    size = 360.0 / 2**level
    envelopes = []
    for x1, y1, x2, y2 in viewport.envelopes:
        ix1, ix2 = _inner_cells(x1, x2, size)
        iy1, iy2 = _inner_cells(y1, y2, size)
        if ix1 >= ix2 or iy1 >= iy2:
            envelopes.append(SummaryEnvelope((x1, y1, x2, y2), 0, 0, 0, 0, ((x1, y1, x2, y2),)))
            continue
        left, right, bottom, top = ix1 * size, ix2 * size, iy1 * size, iy2 * size
        strips = (
            (x1, y1, left, y2),
            (right, y1, x2, y2),
            (left, y1, right, bottom),
            (left, top, right, y2),
        )
        envelopes.append(SummaryEnvelope((x1, y1, x2, y2), ix1, ix2, iy1, iy2, strips))
    if all(e.ix1 >= e.ix2 for e in envelopes):
        return None
    return SummaryPlan(level, size, level - cluster_level, tuple(envelopes))


def _inner_cells(low: float, high: float, size: float) -> tuple[int, int]:
    # Whole cells [first, end) inside [low, high]; the loops undo a division that rounded
    # a bound across a cell edge (cell edges themselves are exact: n * 45 / 2**k).
    first, end = math.ceil(low / size), math.floor(high / size)
    while first * size < low:
        first += 1
    while end * size > high:
        end -= 1
    return first, end


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
            strips.append(
                f"l.point && ST_MakeEnvelope(%({name}_0)s::float8, %({name}_1)s::float8, "
                f"%({name}_2)s::float8, %({name}_3)s::float8, 4326)"
            )
        outside_inner.append(
            f"(l.point && ST_MakeEnvelope(%(x1_{index})s::float8, %(y1_{index})s::float8, "
            f"%(x2_{index})s::float8, %(y2_{index})s::float8, 4326) AND NOT {in_summary})"
        )
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
    bbox: tuple[float, float, float, float],
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
    viewport = Viewport(*bbox)
    params: dict = {"limit": limit}
    boxes = []
    for index, (x1, y1, x2, y2) in enumerate(viewport.envelopes):
        params.update({f"x1_{index}": x1, f"y1_{index}": y1, f"x2_{index}": x2, f"y2_{index}": y2})
        boxes.append(
            f"l.point && ST_MakeEnvelope(%(x1_{index})s::float8, %(y1_{index})s::float8, "
            f"%(x2_{index})s::float8, %(y2_{index})s::float8, 4326)"
        )
    where = ["l.status = 'approved'", "(" + " OR ".join(boxes) + ")"]
    where += _text_and_category_filters(q=q, categories=category, params=params)
    where_sql = " AND ".join(where)
    params["cell"] = cluster_cell_size(viewport=viewport, zoom=zoom, limit=limit)
    plan = (
        viewport_summary_plan(viewport=viewport, cell=params["cell"], q=q) if use_summary else None
    )
    if plan is None:
        cells_sql = _RAW_CELLS.format(where_sql=where_sql)
    else:
        cells_sql = _summary_cells_sql(plan=plan, categories=category, params=params)

    feature = _FEATURE_HEAD.format(
        decimals=constants.COORDINATE_DECIMALS, extra=f"'approved_at', {_sql_iso('l.approved_at')}"
    )
    # Only fixed SQL fragments are interpolated; every value is a bound parameter.
    sql = f"""
WITH first_page AS MATERIALIZED (
    SELECT l.id, l.name, l.category, l.address, l.approved_at, l.point
    FROM locations_location l
    WHERE {where_sql}
    LIMIT %(limit)s + 1
),
overflow AS (SELECT count(*) > %(limit)s AS clustered FROM first_page),
{cells_sql}
SELECT CASE WHEN (SELECT clustered FROM overflow) THEN (
    SELECT json_build_object(
        'type', 'FeatureCollection',
        'clustered', true,
        'total', COALESCE(sum(c.n), 0),
        'cell_size_deg', %(cell)s::float8,
        'features', COALESCE(json_agg(json_build_object(
            'type', 'Feature',
            'geometry', json_build_object(
                'type', 'Point',
                'coordinates', json_build_array(
                    round(c.lon::numeric, {constants.COORDINATE_DECIMALS}),
                    round(c.lat::numeric, {constants.COORDINATE_DECIMALS}))
            ),
            'properties', json_build_object(
                'cluster', true,
                'count', c.n,
                'bbox', json_build_array(
                    round(c.min_lon::numeric, {constants.COORDINATE_DECIMALS}),
                    round(c.min_lat::numeric, {constants.COORDINATE_DECIMALS}),
                    round(c.max_lon::numeric, {constants.COORDINATE_DECIMALS}),
                    round(c.max_lat::numeric, {constants.COORDINATE_DECIMALS}))
            )
        ) ORDER BY c.n DESC, c.lon, c.lat), '[]'::json)
    )
    FROM cells c
) ELSE (
    SELECT json_build_object(
        'type', 'FeatureCollection',
        'clustered', false,
        'total', count(*),
        'features', COALESCE(json_agg({feature} ORDER BY l.id), '[]'::json)
    )
    FROM first_page l
) END::text"""  # noqa: S608
    return sql, params


# --- Public list reads: execution ---------------------------------------------------------


@contextmanager
def public_read_timeout():
    """Bound every statement run inside by PLACES_STATEMENT_TIMEOUT_MS.

    SET LOCAL (set_config(..., true)) lasts until the transaction ends, so pooled
    connections keep their defaults. Postgres cancelling a statement, or being
    unreachable, surfaces as django.db.OperationalError.
    """
    timeout = f"{settings.PLACES_STATEMENT_TIMEOUT_MS}ms"
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('statement_timeout', %s, true)", [timeout])
        yield


def run_public_read(sql: str, params: dict) -> str:
    """Run one public read under the statement timeout; return its single text value.

    One round trip instead of four (BEGIN, set_config, the query, COMMIT): Django's
    psycopg cursor binds parameters client-side and sends the text as one simple-protocol
    message, and PostgreSQL runs the statements of such a message as one implicit
    transaction. SET LOCAL therefore bounds the query and ends with it; PostgreSQL 13+
    times each statement of the message separately. (Server-side binding would refuse
    the two statements loudly, not silently drop the timeout.)
    """
    timeout_ms = int(settings.PLACES_STATEMENT_TIMEOUT_MS)
    with connection.cursor() as cursor:
        cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms};\n{sql}", params)
        cursor.cursor.nextset()  # past SET's empty result, to the query's
        return cursor.fetchone()[0]


def locations_search_json(**search) -> str:
    """GET /locations/search as a GeoJSON FeatureCollection text (see locations_search_sql)."""
    with tracer.start_as_current_span("placemap.locations.search") as span:
        span.set_attribute("placemap.search.spatial", search.get("lat") is not None)
        span.set_attribute("placemap.search.text", bool(search.get("q")))
        span.set_attribute("placemap.search.limit", search.get("limit", 0))
        return run_public_read(*locations_search_sql(**search))


def locations_viewport_json(**viewport) -> str:
    """GET /locations/viewport as a GeoJSON FeatureCollection text."""
    with tracer.start_as_current_span("placemap.locations.viewport") as span:
        span.set_attribute("placemap.viewport.limit", viewport.get("limit", 0))
        span.set_attribute("placemap.viewport.zoom", viewport.get("zoom") or -1)
        return run_public_read(*locations_viewport_sql(**viewport))
