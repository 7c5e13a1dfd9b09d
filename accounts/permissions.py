from rest_framework.permissions import BasePermission

from accounts.selectors import user_is_moderator


class IsModerator(BasePermission):
    """Members of the `moderators` group, staff and superusers. Anonymous gets 401."""

    message = "Only moderators may do this."

    def has_permission(self, request, view) -> bool:
        return user_is_moderator(request.user)
