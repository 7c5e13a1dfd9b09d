from django.conf import settings
from django.db import models

from locations.constants import LocationStatus
from moderation.constants import (
    ACTION_STATUS,
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
