import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q


class ImageStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class Image(models.Model):
    """A photo stored in S3: the optimized original plus thumbnails. Deleting the row
    (directly or through its place) deletes its objects after commit."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    location = models.ForeignKey(
        "locations.Location",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="images",
    )
    uploader = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="images",
    )
    # Storage key of the optimized original; never derived from the client's file name.
    key = models.CharField(max_length=255, unique=True)
    # {"256": "images/<id>/thumb-256.webp", ...}: one key per configured size.
    thumbnail_keys = models.JSONField(default=dict, blank=True)
    width = models.PositiveIntegerField()
    height = models.PositiveIntegerField()
    content_type = models.CharField(max_length=32)
    size_bytes = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)
    status = models.CharField(
        max_length=16,
        choices=ImageStatus.choices,
        default=ImageStatus.PROCESSING,
        db_default=ImageStatus.PROCESSING,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["location", "created_at"], name="image_location_created"),
            # The orphan purge looks for old unattached uploads.
            models.Index(
                fields=["created_at"], name="image_unattached_created", condition=Q(location=None)
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImageStatus.values), name="image_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(width__gt=0, height__gt=0), name="image_dimensions_positive"
            ),
        ]

    def __str__(self) -> str:
        return f"Image {self.id}"

    @property
    def storage_keys(self) -> list[str]:
        return [self.key, *self.thumbnail_keys.values()]
