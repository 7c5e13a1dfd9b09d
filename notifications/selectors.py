from django.db.models import QuerySet

from notifications.models import Notification


def notifications_for_user(*, user) -> QuerySet[Notification]:
    """Everything sent (or to be sent) to `user`, newest first (GDPR export)."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
