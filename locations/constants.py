"""Constants of places: the statuses, and the limits of the public reads and submissions."""

from django.db import models


class LocationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    # Flagged by FLAG_HIDE_THRESHOLD users: off the public map until a moderator
    # resolves the flags (moderation.services, docs/moderation.md "Flags").
    HIDDEN = "hidden", "Hidden"
    # Merged into another place (Location.merged_into) by a moderator: off every public
    # read; GET /locations/{id} answers 301 to the place it was merged into.
    MERGED = "merged", "Merged"


class RevisionStatus(models.TextChoices):
    """A revision of a place's content (locations.models.LocationRevision)."""

    APPLIED = "applied", "Applied"  # written directly (no review needed)
    PENDING = "pending", "Pending"  # an owner's edit of an approved place, awaiting review
    APPROVED = "approved", "Approved"  # published by a moderator
    REJECTED = "rejected", "Rejected"  # discarded by a moderator, with a reason
    SUPERSEDED = "superseded", "Superseded"  # replaced by the owner's newer edit


# Categories are rows of locations.Category (locations.categories reads them).
CATEGORY_SLUG_MAX_LENGTH = 32
# A process keeps the slugs it validates against for this long (locations.categories):
# another process sees a category added or deactivated in the admin within this delay.
CATEGORY_CACHE_SECONDS = 10

NAME_MIN_LENGTH = 3
NAME_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 5000
ADDRESS_MAX_LENGTH = 255
# Full-text search language; queries must pass the same config to hit the GIN index.
SEARCH_CONFIG = "english"

# --- Public read limits (GET /locations/search and /locations/viewport) ---------------
# Radius in metres: 50 km is a metro area; wider searches belong to the viewport.
SEARCH_RADIUS_MIN_M = 1
SEARCH_RADIUS_MAX_M = 50_000
SEARCH_RADIUS_DEFAULT_M = 1_000
SEARCH_LIMIT_MAX = 200
SEARCH_LIMIT_DEFAULT = 50
# Deep OFFSET pagination costs O(offset) rows; clients should narrow the query instead.
SEARCH_OFFSET_MAX = 10_000
SEARCH_ORDERINGS = ("distance", "relevance")
# websearch_to_tsquery input; longer queries are abuse, not searches.
SEARCH_Q_MAX_LENGTH = 200
# At most this many categories may be combined in one filter (a bound on the query's
# size, not on how many categories exist: repeated slugs count once).
CATEGORY_FILTER_MAX = 50

VIEWPORT_LIMIT_MAX = 2_000
VIEWPORT_LIMIT_DEFAULT = 500
ZOOM_MIN = 0
ZOOM_MAX = 22
# Clusters aim at cells of about 1/CLUSTER_CELLS_PER_TILE of a 256 px web-map tile at
# the requested zoom (~64 px), a size at which map markers stop overlapping.
CLUSTER_CELLS_PER_TILE = 4

# Coordinates are written with 7 decimals (about 1 cm), in SQL and in Python alike.
COORDINATE_DECIMALS = 7
# Coordinates are stored rounded to 9 decimals (1e-9 degrees, about 0.1 mm): finer digits
# are noise, and rounding turns subnormal floats (5e-324), which PostgreSQL's float8
# arithmetic refuses to divide, into 0 (locations.geo.quantize_degrees).
COORDINATE_STORED_DECIMALS = 9

# --- Duplicates (docs/moderation.md "Duplicates") ---------------------------------------
# Candidates listed at most; a same-category candidate's similarity counts this much more
# when ranking and against DUPLICATE_NAME_SIMILARITY.
DUPLICATE_LIMIT = 5
DUPLICATE_CATEGORY_BONUS = 0.15

# --- Submissions ---------------------------------------------------------------------
IMAGE_IDS_MAX = 10
IDEMPOTENCY_KEY_MAX_LENGTH = 255
