from django.db.models import QuerySet

from accounts.models import User
from accounts.selectors import moderators
from locations.constants import CATEGORIES
from locations.models import Location, LocationStatus
from notifications.models import Notification


def digest_recipients() -> QuerySet[User]:
    """Active moderators who asked for the digest and have an email address."""
    return moderators().filter(wants_moderation_digest=True).exclude(email="").order_by("pk")


def pending_locations_for_digest(*, limit: int) -> tuple[int, list[dict]]:
    """How many places wait for review, and the `limit` oldest of them (the digest
    lists those first: they have waited longest)."""
    pending = Location.objects.filter(status=LocationStatus.PENDING)
    rows = pending.order_by("created_at", "id").values("id", "name", "category", "created_at")[
        :limit
    ]
    places = [
        {
            "location_id": str(row["id"]),
            "location_name": row["name"],
            "category": CATEGORIES.get(row["category"], row["category"]),
            "submitted_at": row["created_at"].isoformat(),
        }
        for row in rows
    ]
    return pending.count(), places


def notifications_for_user(*, user) -> QuerySet[Notification]:
    """Everything sent (or to be sent) to `user`, newest first (GDPR export)."""
    return Notification.objects.filter(recipient=user).order_by("-created_at", "-id")
