from django.conf import settings
from django.db import models


class NotificationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    SENT = "sent", "Sent"
    FAILED = "failed", "Failed"


class Notification(models.Model):
    """One delivery of one event to one recipient on one channel. The unique
    idempotency key makes a second delivery of the same event impossible."""

    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="notifications"
    )
    event = models.CharField(max_length=64)
    channel = models.CharField(max_length=32, default="email")
    idempotency_key = models.CharField(max_length=200, unique=True)
    payload = models.JSONField(default=dict, blank=True)
    status = models.CharField(
        max_length=16,
        choices=NotificationStatus.choices,
        default=NotificationStatus.PENDING,
        db_default=NotificationStatus.PENDING,
    )
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    # Delivery attempts so far and the last error, for operators (admin).
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["recipient", "created_at"], name="notification_recipient")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(status__in=NotificationStatus.values),
                name="notification_status_valid",
            ),
            models.CheckConstraint(
                condition=models.Q(sent_at__isnull=True) | models.Q(status=NotificationStatus.SENT),
                name="notification_sent_at_only_when_sent",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient_id} ({self.status})"
