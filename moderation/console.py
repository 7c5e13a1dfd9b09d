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
        if not super().has_permission(request):
            return False
        # Asked several times per page (the view, each_context): one query per request.
        if not hasattr(request, "_console_suspended"):
            request._console_suspended = user_active_suspension(request.user) is not None
        return not request._console_suspended
