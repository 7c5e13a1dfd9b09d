from django.conf import settings
from django.db import models

from locations.constants import LocationStatus
from media_store.models import Image, ImageModeration
from moderation.constants import (
    ACTION_STATUS,
    FLAG_COMMENT_MAX_LENGTH,
    FLAG_REASON_CHOICES,
    LOG_ACTION_CHOICES,
    REASON_CODE_CHOICES,
    REASON_MAX_LENGTH,
)


class ModerationLog(models.Model):
    """One moderation decision. Append-only, written by moderation.services; it
    survives the deletion of its place and of its moderator."""

    location = models.ForeignKey(
        "locations.Location",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_logs",
    )
    # Kept as a plain value so the trail still names the place after it is deleted.
    location_ref = models.UUIDField(db_index=True)
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_decisions",
    )
    from_status = models.CharField(max_length=16, choices=LocationStatus.choices)
    to_status = models.CharField(max_length=16, choices=LocationStatus.choices)
    reason_code = models.CharField(
        max_length=32, choices=REASON_CODE_CHOICES, blank=True, default=""
    )
    reason = models.TextField(blank=True, default="", max_length=REASON_MAX_LENGTH)
    # --- Versions and revisions (docs/moderation.md) ---
    # What was decided: the place's status, or a pending revision of an approved place
    # (approved: published; rejected: discarded, the place unchanged), or a revert.
    action = models.CharField(
        max_length=24, choices=LOG_ACTION_CHOICES, default=ACTION_STATUS, db_default=ACTION_STATUS
    )
    revision = models.ForeignKey(
        "locations.LocationRevision",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_logs",
    )
    # The place's version once the decision was applied (null on rows older than it).
    version = models.PositiveIntegerField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["location_ref", "created_at"], name="modlog_location_created")
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(from_status__in=LocationStatus.values)
                & models.Q(to_status__in=LocationStatus.values),
                name="modlog_status_valid",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.location_ref}: {self.from_status} → {self.to_status}"


# --- Photos (docs/moderation.md "Photos") ------------------------------------------------


class ImageModerationLog(models.Model):
    """One decision on a photo (a moderator's, one carried with its place's, a
    suspension's, or the system's when flags hid it). Append-only, like ModerationLog,
    and a table of its own: a photo's statuses are not a place's, and the place trail's
    readers (its log endpoint, the console inline, GDPR) stay untouched. It survives the
    deletion of its photo, place and moderator (plain ids kept)."""

    image = models.ForeignKey(
        "media_store.Image",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="moderation_logs",
    )
    image_ref = models.UUIDField(db_index=True)
    # The place the photo belonged to at the decision (null for an unattached upload).
    location_ref = models.UUIDField(null=True, blank=True)
    # Null: a system decision (hidden by flags) or a command run by an operator.
    moderator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="image_moderation_decisions",
    )
    from_status = models.CharField(max_length=16, choices=ImageModeration.choices)
    to_status = models.CharField(max_length=16, choices=ImageModeration.choices)
    reason_code = models.CharField(
        max_length=32, choices=REASON_CODE_CHOICES, blank=True, default=""
    )
    reason = models.TextField(blank=True, default="", max_length=REASON_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["image_ref", "created_at"], name="imagemodlog_image_created")
        ]

    def __str__(self) -> str:
        return f"photo {self.image_ref}: {self.from_status} → {self.to_status}"


# --- Flags (docs/moderation.md "Flags") ---------------------------------------------------


class FlagStatus(models.TextChoices):
    OPEN = "open", "Open"
    DISMISSED = "dismissed", "Dismissed"
    ACTIONED = "actioned", "Actioned"


class Flag(models.Model):
    """A signed-in user's report of a public place or photo. One open flag per user and
    object (partial unique constraints); a moderator resolves every open flag of an
    object at once. Deleted with its reporter (GDPR erasure) and with its object."""

    location = models.ForeignKey(
        "locations.Location", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    image = models.ForeignKey(
        "media_store.Image", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    reporter = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="flags"
    )
    reason = models.CharField(max_length=32, choices=FLAG_REASON_CHOICES)
    comment = models.TextField(blank=True, default="", max_length=FLAG_COMMENT_MAX_LENGTH)
    status = models.CharField(
        max_length=16, choices=FlagStatus.choices, default=FlagStatus.OPEN, db_default="open"
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="flags_resolved",
    )
    resolved_at = models.DateTimeField(null=True, blank=True)
    note = models.TextField(blank=True, default="", max_length=REASON_MAX_LENGTH)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            # The open queue, oldest first, and the per-object counts.
            models.Index(
                fields=["created_at"],
                name="flag_open_created",
                condition=models.Q(status="open"),
            ),
            models.Index(fields=["location", "status"], name="flag_location_status"),
            models.Index(fields=["image", "status"], name="flag_image_status"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(location__isnull=False, image__isnull=True)
                | models.Q(location__isnull=True, image__isnull=False),
                name="flag_one_target",
            ),
            models.CheckConstraint(
                condition=models.Q(status__in=FlagStatus.values), name="flag_status_valid"
            ),
            models.UniqueConstraint(
                fields=["reporter", "location"],
                condition=models.Q(status="open", location__isnull=False),
                name="flag_one_open_per_user_location",
            ),
            models.UniqueConstraint(
                fields=["reporter", "image"],
                condition=models.Q(status="open", image__isnull=False),
                name="flag_one_open_per_user_image",
            ),
        ]

    def __str__(self) -> str:
        target = f"place {self.location_id}" if self.location_id else f"photo {self.image_id}"
        return f"{self.reason} flag on {target} ({self.status})"

    @property
    def target_type(self) -> str:
        return "location" if self.location_id else "image"


class PendingPhoto(Image):
    """The console's photo queue (moderation/admin_queues.py): media_store's Image under
    a name of moderation's, so the queue has its own admin page beside media_store's
    read-only photo list. No table of its own."""

    class Meta:
        proxy = True
        verbose_name = "photo to moderate"
        verbose_name_plural = "photos to moderate"
