"""GET /locations/search: radius, text, or both, as one SQL statement."""

from collections.abc import Sequence

from opentelemetry import trace

from locations import constants
from locations.geojson import feature_collection_sql, feature_sql
from locations.selectors.sql import TSQUERY, run_public_read, text_and_category_filters

tracer = trace.get_tracer(__name__)

# The words of a place as location_geog_text_gist indexes them (locations.models
# NEAR_TEXT_VECTOR): search_vector itself, spelled so that no other read plans on it.
NEAR_TEXT_VECTOR = "(l.search_vector || ''::tsvector)"

# The properties of a search result, in the order clients have always received them;
# distance_m is the metres from lat/lon (null for a text-only search).
SEARCH_PROPERTIES = (
    "id",
    "name",
    "category",
    "address",
    "description",
    "status",
    "version",
    "created_at",
    "updated_at",
    "approved_at",
)
SEARCH_EXTRA = {"distance_m": "round(l.distance_m::numeric, 1)"}


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
    previous_url: str | None = None,
) -> tuple[str, dict]:
    """Radius search (lat/lon/radius), text search (q), or both, approved places only.

    One statement: the page is fetched with one row more than `limit` (no COUNT) and the
    FeatureCollection's `next` is `next_url` exactly when that extra row exists. The
    pagination members (config.params' envelope: `next`, `previous`, `limit`, `count`
    always null) come after `features`, `next` first: LocationSearchView reads the
    Link header from them.
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

    params: dict = {
        "limit": limit,
        "offset": offset,
        "next_url": next_url,
        "previous_url": previous_url,
    }
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
    if q and spatial:
        # Text near a point: the words on NEAR_TEXT_VECTOR together with the disc let
        # location_geog_text_gist (GiST on the geography and the words) answer both;
        # with the distance ordering below it is a nearest-first walk that tests the
        # words inside the index and stops after the page, whether a word is in every
        # tenth place or in one in a thousand (docs/benchmarks.md "Text near a point").
        # Text alone keeps location_search_gin (text_and_category_filters).
        params["q"] = q
        where.append(f"{NEAR_TEXT_VECTOR} @@ query")
        where += text_and_category_filters(q="", categories=category, params=params)
    else:
        where += text_and_category_filters(q=q, categories=category, params=params)
    if q:
        from_items.append(f"{TSQUERY} query")
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

    feature = feature_sql(properties=SEARCH_PROPERTIES, extra=SEARCH_EXTRA)
    collection = feature_collection_sql(
        "COALESCE(json_agg(page.feature ORDER BY page.position)"
        " FILTER (WHERE page.position <= %(limit)s), '[]'::json)",
        after=[
            ("next", "CASE WHEN count(*) > %(limit)s THEN %(next_url)s::text END"),
            ("previous", "%(previous_url)s::text"),
            ("limit", "%(limit)s::int"),
            # Counting every match would read them all; the envelope says so with null.
            ("count", "NULL::int"),
        ],
    )
    # Only fixed SQL fragments are interpolated; every value is a bound parameter.
    sql = f"""
SELECT {collection}::text
FROM (
    SELECT row_number() OVER (ORDER BY {order}) AS position,
           {feature} AS feature
    FROM (
        SELECT l.id, l.name, l.description, l.category, l.address, l.status, l.version, l.point,
               l.created_at, l.updated_at, l.approved_at,
               {distance} AS distance_m, {rank} AS rank
        FROM {", ".join(from_items)}
        WHERE {" AND ".join(where)}
        ORDER BY {page_order}
        LIMIT %(limit)s + 1 OFFSET %(offset)s
    ) l
) page"""  # noqa: S608
    return sql, params


def locations_search_json(**search) -> str:
    """GET /locations/search as a GeoJSON FeatureCollection text (see locations_search_sql)."""
    with tracer.start_as_current_span("placemap.locations.search") as span:
        span.set_attribute("placemap.search.spatial", search.get("lat") is not None)
        span.set_attribute("placemap.search.text", bool(search.get("q")))
        span.set_attribute("placemap.search.limit", search.get("limit", 0))
        return run_public_read(*locations_search_sql(**search))
