import uuid

from django.conf import settings
from django.contrib.gis.db import models
from django.contrib.postgres.indexes import GinIndex, GistIndex
from django.contrib.postgres.search import SearchVector, SearchVectorField
from django.db.models import F, Q
from django.db.models.functions import Cast, Length, Trim
from django.db.models.lookups import GreaterThanOrEqual, LessThanOrEqual

from locations.constants import (
    ADDRESS_MAX_LENGTH,
    CATEGORY_CHOICES,
    DESCRIPTION_MAX_LENGTH,
    NAME_MAX_LENGTH,
    NAME_MIN_LENGTH,
    SEARCH_CONFIG,
)


class LocationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"


APPROVED_ONLY = Q(status=LocationStatus.APPROVED)


class Location(models.Model):
    """A place on the map. Public reads see approved places only; writes go through
    locations.services and status changes through moderation.services."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    name = models.CharField(max_length=NAME_MAX_LENGTH)
    description = models.TextField(blank=True, default="", max_length=DESCRIPTION_MAX_LENGTH)
    category = models.CharField(max_length=32, choices=CATEGORY_CHOICES)
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
            # Radius: ST_DWithin on point::geography, approved places only. Queries must
            # use the same expression (see locations.selectors).
            GistIndex(
                Cast("point", output_field=models.PointField(geography=True)),
                name="location_geog_approved_gist",
                condition=APPROVED_ONLY,
            ),
            GinIndex(fields=["search_vector"], name="location_search_gin"),
            models.Index(fields=["status", "created_at"], name="location_status_created"),
            models.Index(fields=["submitter", "created_at"], name="location_submitter_created"),
        ]
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
        ]

    def __str__(self) -> str:
        return self.name
