"""The moderation console is Django's admin site, with Placemap's names and one rule
more: a suspended account cannot use it (the API refuses its writes the same way,
accounts.permissions.NotSuspended)."""

from django.contrib.admin import AdminSite

from accounts.selectors import user_active_suspension


class ConsoleSite(AdminSite):
    site_header = "Placemap moderation console"
    site_title = "Placemap"
    index_title = "Moderation"

    def has_permission(self, request) -> bool:
        return super().has_permission(request) and user_active_suspension(request.user) is None
