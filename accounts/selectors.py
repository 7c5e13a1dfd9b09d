from django.conf import settings
from rest_framework.authtoken.models import Token

from accounts.models import User
from locations.models import Location
from media_store.models import Image
from moderation.models import ModerationLog
from notifications.models import Notification


def user_is_moderator(user) -> bool:
    """Moderators: active members of the `moderators` group, staff and superusers."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name=settings.MODERATORS_GROUP).exists()


def moderators():
    from django.db.models import Q

    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name=settings.MODERATORS_GROUP))
        .distinct()
    )


def moderators_wanting_digest():
    """Active moderators who asked for the digest and have an email address."""
    return moderators().filter(wants_moderation_digest=True).exclude(email="").order_by("pk")


# --- GDPR: everything held about one user (docs/gdpr.md) ------------------------------


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def user_personal_data(*, user: User) -> dict:
    """Everything Placemap holds about `user`, as JSON-ready data, and nothing about
    anyone else: moderators stay anonymous, other people's photos on the user's places
    are left out. Credentials (password hash, token keys) are not data to hand out."""
    places = Location.objects.filter(submitter=user).order_by("created_at", "id")
    return {
        "profile": {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": _iso(user.date_joined),
            "last_login": _iso(user.last_login),
            "is_active": user.is_active,
            "is_moderator": user_is_moderator(user),
            "wants_moderation_digest": user.wants_moderation_digest,
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "api_tokens": [
                {"created": _iso(created)}
                for created in Token.objects.filter(user=user).values_list("created", flat=True)
            ],
        },
        "locations": [
            {
                "id": str(place.id),
                "name": place.name,
                "description": place.description,
                "category": place.category,
                "address": place.address,
                "longitude": place.point.x,
                "latitude": place.point.y,
                "status": place.status,
                "external_id": place.external_id,
                "created_at": _iso(place.created_at),
                "updated_at": _iso(place.updated_at),
                "approved_at": _iso(place.approved_at),
            }
            for place in places
        ],
        "images": [
            {
                "id": str(image.id),
                "location_id": str(image.location_id) if image.location_id else None,
                "status": image.status,
                "content_type": image.content_type,
                "width": image.width,
                "height": image.height,
                "size_bytes": image.size_bytes,
                "sha256": image.sha256,
                "created_at": _iso(image.created_at),
            }
            for image in Image.objects.filter(uploader=user).order_by("created_at", "id")
        ],
        # Decisions on the user's places; who decided is the moderator's data, not theirs.
        "moderation_decisions": [
            {
                "location_id": str(log.location_ref),
                "from_status": log.from_status,
                "to_status": log.to_status,
                "reason_code": log.reason_code,
                "reason": log.reason,
                "created_at": _iso(log.created_at),
            }
            for log in ModerationLog.objects.filter(location__submitter=user).order_by(
                "created_at", "id"
            )
        ],
        "notifications": [
            {
                "event": note.event,
                "channel": note.channel,
                "status": note.status,
                "payload": note.payload,
                "created_at": _iso(note.created_at),
                "sent_at": _iso(note.sent_at),
            }
            for note in Notification.objects.filter(recipient=user).order_by("created_at", "id")
        ],
    }
