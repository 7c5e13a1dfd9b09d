from django.conf import settings

from accounts.models import User


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
