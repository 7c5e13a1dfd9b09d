import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex, GistIndex, OpClass
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db.models import F, Func, Q
from django.db.models.functions import Cast, Length, Lower, Trim
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual
from simple_history.models import HistoricalRecords

from locations.constants import (
    ADDRESS_MAX_LENGTH,
    CATEGORY_SLUG_MAX_LENGTH,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NAME_MIN_LENGTH,
    SEARCH_CONFIG,
    LocationStatus,
    RevisionStatus,
)

__all__ = [
    "APPROVED_ONLY",
    "CONTENT_FIELDS",
    "GRID_LEVELS",
    "Category",
    "GridCell",
    "Location",
    "LocationRevision",
    "LocationStatus",
    "RevisionStatus",
]

APPROVED_ONLY = Q(status=LocationStatus.APPROVED)
# search_vector concatenated with the empty vector: the same value, in an expression only
# the text-near-a-point search uses (location_geog_text_gist; the SQL spelling is
# locations.selectors.search.NEAR_TEXT_VECTOR).
NEAR_TEXT_VECTOR = Func(
    F("search_vector"),
    template="(%(expressions)s || ''::tsvector)",
    output_field=SearchVectorField(),
)
PENDING_ONLY = Q(status=LocationStatus.PENDING)


class Category(models.Model):
    """A kind of place (GET /api/v1/categories), managed by moderators in the admin.

    Translated as plain columns, one per language of settings.LANGUAGES (docs/places.md
    "Categories"): label_en is required and the fallback of every other language. A
    category in use cannot be deleted (the database refuses it); deactivating it refuses it
    for new places and keeps it on old ones (locations.categories).
    """

    slug = models.SlugField(max_length=CATEGORY_SLUG_MAX_LENGTH, primary_key=True)
    label_en = models.CharField("label (English)", max_length=80)
    label_de = models.CharField("label (German)", max_length=80, blank=True, default="")
    label_fr = models.CharField("label (French)", max_length=80, blank=True, default="")
    description_en = models.CharField(
        "description (English)", max_length=300, blank=True, default=""
    )
    description_de = models.CharField(
        "description (German)", max_length=300, blank=True, default=""
    )
    description_fr = models.CharField(
        "description (French)", max_length=300, blank=True, default=""
    )
    # A name from the map client's icon set (e.g. Maki's "restaurant"); not a URL.
    icon = models.SlugField(max_length=40, blank=True, default="")
    active = models.BooleanField(default=True)
    order = models.PositiveSmallIntegerField(default=0)

    class Meta:
        ordering = ["order", "slug"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return f"{self.label_en} ({self.slug})"


class Location(models.Model):
    """A place on the map. Public reads see approved places only; writes go through
    locations.services and status changes through moderation.services."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)
    # A Category's slug, kept as text (not a ForeignKey): the SQL reads filter and group
    # on l.category without a join. The database still refuses an unknown slug and the
    # deletion of one in use: migration 0012 adds a foreign key constraint (RESTRICT).
    category = models.CharField(max_length=CATEGORY_SLUG_MAX_LENGTH)
    address = models.CharField(max_length=ADDRESS_MAX_LENGTH, blank=True, default="")
    # WGS 84 lon/lat. Radius queries use the geography expression index below.
    point = models.PointField(srid=4326, spatial_index=False)
    status = models.CharField(
        max_length=16,
        choices=LocationStatus.choices,
        default=LocationStatus.PENDING,
        db_default=LocationStatus.PENDING,
    )
    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="locations",
        db_index=False,  # covered by location_submitter_created
    )
    # Stable id from a bulk import source; re-importing upserts on it.
    external_id = models.CharField(max_length=200, null=True, blank=True, unique=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    approved_at = models.DateTimeField(null=True, blank=True)
    # Incremented on every content change and on every pending revision created or
    # replaced: a moderator's decision names the version it saw (expected_version).
    version = models.PositiveIntegerField(default=1, db_default=1)
    # Set with status `merged` (moderation.services.location_merge): where its readers go.
    merged_into = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="merged_from"
    )
    # The spam score of the latest submission or edit and the signals that fired
    # (moderation.spam; docs/moderation.md "Spam score").
    spam_score = models.PositiveSmallIntegerField(default=0, db_default=0)
    spam_signals = models.JSONField(
        default=list, blank=True, db_default=models.Value([], output_field=models.JSONField())
    )
    search_vector = models.GeneratedField(
        expression=SearchVector("name", weight="A", config=SEARCH_CONFIG)
        + SearchVector("description", weight="B", config=SEARCH_CONFIG),
        output_field=SearchVectorField(),
        db_persist=True,
    )

    class Meta:
        ordering = ["-created_at"]
        indexes = [
            # Viewport: bbox && on the geometry, approved places only.
            GistIndex(F("point"), name="location_point_approved_gist", condition=APPROVED_ONLY),
            # Vector tiles (locations.selectors.tiles): the same box search, carrying every
            # column a tile reads, so a tile is an index-only scan and never visits the
            # table's pages (one per place where places were added over time). The point is
            # included as well as indexed: GiST keeps only its bounding box.
            # For tiles only: its predicate's `category IS NOT NULL` (always true, the
            # column is NOT NULL) is written out by the tile SQL alone (TILE_COVER_CLAUSE),
            # and the planner takes a partial index only for a query that states its
            # predicate. So the viewport keeps the smaller index above, and no ordering by
            # distance (`l.point <-> ...`, the OGC extent) is planned as an index-only
            # scan here, which PostgreSQL refuses at run time for PostGIS's lossy distance.
            # (An expression, F("point"): GeoDjango's schema editor writes an index on a
            # single geometry field its own way, dropping INCLUDE and WHERE.)
            GistIndex(
                F("point"),
                include=["id", "name", "category", "point"],
                name="location_tile_cover_gist",
                condition=APPROVED_ONLY & Q(category__isnull=False),
            ),
            # Radius: ST_DWithin on point::geography, approved places only. Queries must
            # use the same expression (see locations.selectors).
            GistIndex(
                Cast("point", output_field=models.PointField(geography=True)),
                name="location_geog_approved_gist",
                condition=APPROVED_ONLY,
            ),
            GinIndex(fields=["search_vector"], name="location_search_gin"),
            # Text near a point: the geography and the words in one GiST (the tsvector's
            # signature opclass), approved places only. Ordered by `<->`, the search walks
            # it nearest first and tests the words inside the index, so neither a common
            # word's GIN bitmap nor a rare word's whole disc of rows is read
            # (locations.selectors.search; docs/benchmarks.md "Text near a point").
            # It indexes `search_vector || ''` (the same vector) so that only the search
            # that spells it so can use it: a text-only search planned on it instead of
            # the GIN (a scan of every signature) took 160 ms instead of 2 at 1M places.
            GistIndex(
                Cast("point", output_field=models.PointField(geography=True)),
                NEAR_TEXT_VECTOR,
                name="location_geog_text_gist",
                condition=APPROVED_ONLY,
            ),
            # Duplicates among pending places (approved ones use location_geog_approved_gist):
            # the radius on the geography and the trigram similarity of the lower-cased
            # name in one index (pg_trgm, migration 0011).
            GistIndex(
                Cast("point", output_field=models.PointField(geography=True)),
                OpClass(Lower("name"), name="gist_trgm_ops"),
                name="location_dup_pending_gist",
                condition=PENDING_ONLY,
            ),
            models.Index(fields=["status", "created_at"], name="location_status_created"),
            # OGC API items: the datetime filter and the collection's temporal extent
            # (min/max approved_at), approved places only.
            models.Index(
                fields=["approved_at"], name="location_approved_at", condition=APPROVED_ONLY
            ),
            models.Index(fields=["submitter", "created_at"], name="location_submitter_created"),
        ]
        # Also location_point_in_range (SQL, migration 0003): lon -180..180, lat -90..90.
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=LocationStatus.values), name="location_status_valid"
            ),
            models.CheckConstraint(
                condition=GreaterThanOrEqual(Length(Trim("name")), NAME_MIN_LENGTH),
                name="location_name_min_length",
            ),
            models.CheckConstraint(
                condition=LessThanOrEqual(Length("description"), DESCRIPTION_MAX_LENGTH),
                name="location_description_max_length",
            ),
            models.CheckConstraint(
                condition=Q(approved_at__isnull=True) | Q(status=LocationStatus.APPROVED),
                name="location_approved_at_only_when_approved",
            ),
            models.CheckConstraint(
                condition=Q(merged_into__isnull=True) | Q(status=LocationStatus.MERGED),
                name="location_merged_into_only_when_merged",
            ),
        ]

    # The audit trail of every row change (who, when, each field before and after):
    # written by save() through django-simple-history, and set-wise by the bulk import.
    # Indexed on what its readers filter by (id: a place's history; history_user and
    # submitter: GDPR export and erasure, locations/gdpr.py); nothing reads it by
    # external_id, merged_into or history_date (ordered only within one place's rows), and
    # each of those indexes cost the bulk import a random btree insert per place.
    # SIMPLE_HISTORY_DATE_INDEX = False (config/settings/base.py) drops history_date's.
    history = HistoricalRecords(
        excluded_fields=["search_vector", "spam_score", "spam_signals"],
        no_db_index=["external_id", "merged_into"],
    )

    def __str__(self) -> str:
        return self.name


# The content of a place: what a version and a revision hold.
CONTENT_FIELDS = ("name", "description", "category", "address", "point")


class LocationRevision(models.Model):
    """One version of a place's content: applied at once (a submission, an edit of a
    pending place, a moderator's edit, an import, a revert) or proposed by the owner of
    an approved place and decided by a moderator (moderation.services).

    `changes` ({field: {"before", "after"}}, the point as GeoJSON) is frozen when the
    revision is applied or decided; a pending revision's diff is computed against the
    place as it is now, which is exactly what approving it would publish.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    # Indexed by revision_location_created, whose first column serves the foreign key's
    # lookups too: a second btree on location_id only slowed every insert.
    location = models.ForeignKey(
        Location, on_delete=models.CASCADE, related_name="revisions", db_index=False
    )
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)
    category = models.CharField(max_length=CATEGORY_SLUG_MAX_LENGTH)
    address = models.CharField(max_length=ADDRESS_MAX_LENGTH, blank=True, default="")
    point = models.PointField(srid=4326, spatial_index=False)
    # The place's version the author edited, and the version this revision gave it (a
    # proposal: the version its creation gave; once approved: the published version).
    base_version = models.PositiveIntegerField()
    version = models.PositiveIntegerField()
    status = models.CharField(max_length=16, choices=RevisionStatus.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="location_revisions",
    )
    # What kind of change applied it: submit, edit, moderator_edit, import, revert.
    source = models.CharField(max_length=16, default="edit")
    reverted_from = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    changes = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    reason_code = models.CharField(max_length=32, blank=True, default="")
    reason = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["location", "created_at"], name="revision_location_created"),
            # (No Index on author: the foreign key's own index already serves it.)
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RevisionStatus.values), name="revision_status_valid"
            ),
            # One pending proposal per place: a new edit replaces (supersedes) it.
            models.UniqueConstraint(
                fields=["location"],
                condition=Q(status=RevisionStatus.PENDING),
                name="revision_one_pending_per_location",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location_id} v{self.version} ({self.status})"


# Grid levels kept in GridCell: a level-L cell is 360 / 2**L degrees (22.5° at 4, about
# 2.4 km at 14, 600 m at 16), edges on multiples of the cell, the same grid the viewport
# clusters on (selectors.cluster_cell_size), so a level's cells nest exactly into the
# cells of every coarser level. Every other level: a viewport clustering at level k reads
# level k+1 or k+2 (4-16 summary cells per cluster), so its raw edge strips stay narrow.
GRID_LEVELS = (4, 6, 8, 10, 12, 14, 16)


class GridCell(models.Model):
    """Count and coordinate sums of the approved places in one grid cell per category.

    Maintained by PostgreSQL alone: statement-level triggers on locations_location fold
    each statement's changes in (migration 0002), so every writer, COPY included, keeps
    it exact. Never written from Python. The mean position is (sum_lon/n, sum_lat/n);
    a cell whose n drops to 0 is deleted.
    """

    pk = models.CompositePrimaryKey("level", "cx", "cy", "category")
    level = models.SmallIntegerField()
    cx = models.IntegerField()  # floor(lon / (360 / 2**level))
    cy = models.IntegerField()  # floor(lat / (360 / 2**level))
    category = models.CharField(max_length=32)
    n = models.IntegerField()
    sum_lon = models.FloatField()
    sum_lat = models.FloatField()

    class Meta:
        indexes = [
            # Keeps the trigger's end-of-statement check and clean-up (n < 0 raises, n = 0
            # is deleted) an index probe: the index is empty between statements. No CHECK
            # (n >= 0) instead: PostgreSQL checks a proposed row before ON CONFLICT turns it
            # into an update, so every negative delta would fail.
            models.Index(fields=["n"], name="gridcell_not_positive", condition=Q(n__lte=0)),
            # Vector tiles read wide, short bands of cells (a tile's whole width, a few rows
            # high: locations.selectors.tiles); the primary key, column-first, would scan
            # every row of every column in the band's width.
            models.Index(fields=["level", "cy", "cx"], name="gridcell_level_row"),
        ]

    def __str__(self) -> str:
        return f"L{self.level} ({self.cx}, {self.cy}) {self.category}: {self.n}"


class IdempotencyKey(models.Model):
    """An Idempotency-Key of POST /locations and the response it got (locations.api.idempotency).

    Written in the transaction that creates the place, so the key exists exactly when the
    place does: a retry after any crash (Redis, web process, PostgreSQL) replays the first
    response, and a concurrent duplicate's insert waits on the unique index. Expired after
    PLACES_IDEMPOTENCY_TTL_SECONDS: ignored on read, deleted by
    locations.tasks.purge_idempotency_keys.
    """

    submitter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    scope = models.CharField(max_length=40)
    # sha256 of the key as sent (any length the API allows fits the column).
    key_digest = models.CharField(max_length=64)
    # sha256 of the canonical request body: the same key with another body is refused.
    fingerprint = models.CharField(max_length=64)
    response_status = models.PositiveSmallIntegerField()
    response_body = models.JSONField()
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["submitter", "scope", "key_digest"], name="idempotencykey_unique"
            )
        ]

    def __str__(self) -> str:
        return f"{self.scope} {self.key_digest[:12]} ({self.response_status})"
