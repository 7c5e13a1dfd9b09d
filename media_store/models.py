import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.fields.files import FieldFile

from media_store.storage import image_storage


class ImageStatus(models.TextChoices):
    PROCESSING = "processing", "Processing"
    READY = "ready", "Ready"
    FAILED = "failed", "Failed"


class ImageModeration(models.TextChoices):
    """A photo's moderation status, apart from its processing `status`. The public sees
    approved (and ready) photos only; the uploader and moderators see the others."""

    PENDING = "pending", "Pending"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    # Flagged by FLAG_HIDE_THRESHOLD users: out of public view until a moderator decides.
    HIDDEN = "hidden", "Hidden"


class StoredKeyFile(FieldFile):
    """The stored object of Image.key. Code written when the key was a string compares
    and tests it as one; FieldFile already compares and hashes by name."""

    def startswith(self, prefix: str) -> bool:
        return self.name.startswith(prefix)

    def endswith(self, suffix: str) -> bool:
        return self.name.endswith(suffix)


class StoredKeyField(models.FileField):
    attr_class = StoredKeyFile


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
    # A file field (no width/height fields: those would reopen and decode the object).
    key = StoredKeyField(storage=image_storage, max_length=255, unique=True)
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
    # Decided with its place when submitted with it; decided alone (the admin images
    # queue) when added to a place that is already approved.
    moderation_status = models.CharField(
        max_length=16,
        choices=ImageModeration.choices,
        default=ImageModeration.PENDING,
        db_default=ImageModeration.PENDING,
    )
    # Incremented by every moderation change: a moderator's decision may name the
    # version it saw (expected_version) and is refused if the photo changed since.
    version = models.PositiveIntegerField(default=1, db_default=1)
    # When a rejection removed the stored objects (the row stays for the audit trail);
    # such a photo can no longer be approved.
    objects_removed_at = models.DateTimeField(null=True, blank=True)
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
            # The moderators' photo queue (GET /admin/images?status=pending), oldest first.
            models.Index(
                fields=["moderation_status", "created_at"], name="image_moderation_created"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=ImageStatus.values), name="image_status_valid"
            ),
            models.CheckConstraint(
                condition=Q(width__gt=0, height__gt=0), name="image_dimensions_positive"
            ),
            models.CheckConstraint(
                condition=Q(moderation_status__in=ImageModeration.values),
                name="image_moderation_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"Image {self.id}"

    @property
    def storage_keys(self) -> list[str]:
        return [self.key.name, *self.thumbnail_keys.values()]
