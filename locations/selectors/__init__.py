"""Reads of places, by concern:

- places: ORM reads (detail, own places, the live feed's Feature, the moderators' queue
  and digest);
- search and viewport: the public list reads, each one SQL statement built by a
  `*_sql()` function; sql: what they share (filters, the statement timeout);
- tiles: the vector tiles (ST_AsMVT) and their TileJSON summary;
- clustering: the grid geometry of zoomed-out viewports (pure Python, no database);
- ogc: the OGC API - Features collection (keyset pages of items, one item, the extent).

The public list reads (radius/text search and viewport) are single SQL statements that
return the finished GeoJSON document as text: the features are built by Postgres
(json_build_object, ST_AsGeoJSON, json_agg; locations.geojson) and handed to the client
as they are, with no per-row Python. Each has a `*_sql()` builder returning (sql, params)
so the benchmark can run the very same statement against Postgres directly; parameters
use psycopg's %(name)s style and every value is a bound parameter.

Index contract (see locations.models):
- radius: `point::geography(POINT,4326)` with `status = 'approved'` hits
  location_geog_approved_gist; any other spelling of the cast misses it;
- viewport: `point && ST_MakeEnvelope(...)` with `status = 'approved'` hits
  location_point_approved_gist (locations.geo.BBox.sql_overlaps);
- text: `search_vector @@ websearch_to_tsquery('english', q)` (constants.SEARCH_CONFIG)
  hits location_search_gin;
- text near a point: the radius' expression and `search_vector @@` the query, ordered by
  `<->`, walk location_geog_text_gist nearest first (see locations_search_sql).

Callers import from `locations.selectors`; the modules are its inside.
"""

from locations.geo import BBox
from locations.selectors.clustering import (
    SUMMARY_SUBDIVISION,
    SummaryEnvelope,
    SummaryPlan,
    cluster_cell_size,
    viewport_summary_plan,
)
from locations.selectors.duplicates import (
    location_duplicates,
    location_duplicates_sql,
    locations_duplicates_by_id,
)
from locations.selectors.ogc import (
    Extent,
    ItemsFilter,
    ItemsPage,
    ogc_item_json,
    ogc_items_page,
    ogc_items_sql,
    ogc_places_extent,
    ogc_places_extent_sql,
)
from locations.selectors.places import (
    location_exists,
    location_feature,
    location_for_review,
    location_get_visible,
    location_ids_of_submitter,
    location_ids_with_pending_revision_by,
    location_merged_into,
    location_pending_revision,
    location_pending_revision_dict,
    location_public_feature,
    location_revisions,
    locations_by_id,
    locations_count_of_submitter,
    locations_for_review,
    locations_of_submitter,
    locations_pending_digest,
    locations_with_text_count,
    pending_revisions_prefetch,
    review_queue_filter,
    revision_dict,
    visible_locations,
)
from locations.selectors.search import locations_search_json, locations_search_sql
from locations.selectors.sql import public_read_timeout, run_public_read
from locations.selectors.tiles import locations_tile_mvt, locations_tile_sql, tileset_summary
from locations.selectors.viewport import locations_viewport_json, locations_viewport_sql

# The viewport's rectangle is the one BBox (tests and the benchmark know it by this name).
Viewport = BBox

__all__ = [
    "SUMMARY_SUBDIVISION",
    "Extent",
    "ItemsFilter",
    "ItemsPage",
    "SummaryEnvelope",
    "SummaryPlan",
    "Viewport",
    "cluster_cell_size",
    "location_duplicates",
    "location_duplicates_sql",
    "location_exists",
    "location_feature",
    "location_for_review",
    "location_get_visible",
    "location_ids_of_submitter",
    "location_ids_with_pending_revision_by",
    "location_merged_into",
    "location_pending_revision",
    "location_pending_revision_dict",
    "location_public_feature",
    "location_revisions",
    "locations_by_id",
    "locations_count_of_submitter",
    "locations_duplicates_by_id",
    "locations_for_review",
    "locations_of_submitter",
    "locations_pending_digest",
    "locations_search_json",
    "locations_search_sql",
    "locations_tile_mvt",
    "locations_tile_sql",
    "locations_viewport_json",
    "locations_viewport_sql",
    "locations_with_text_count",
    "ogc_item_json",
    "ogc_items_page",
    "ogc_items_sql",
    "ogc_places_extent",
    "ogc_places_extent_sql",
    "pending_revisions_prefetch",
    "public_read_timeout",
    "review_queue_filter",
    "revision_dict",
    "run_public_read",
    "tileset_summary",
    "viewport_summary_plan",
    "visible_locations",
]
