from django.contrib import admin
from django.urls import reverse
from django.utils.html import format_html

from moderation.models import ModerationLog


@admin.register(ModerationLog)
class ModerationLogAdmin(admin.ModelAdmin):
    """The audit trail: readable by moderators, written only by moderation.services.
    Nobody adds or edits an entry; only a superuser may delete one (e.g. for erasure)."""

    list_display = (
        "created_at",
        "place",
        "from_status",
        "to_status",
        "reason_code",
        "moderator",
    )
    list_filter = ("to_status", "reason_code", ("created_at", admin.DateFieldListFilter))
    search_fields = ("location__name", "moderator__username", "reason")
    list_select_related = ("location", "moderator")
    date_hierarchy = "created_at"
    readonly_fields = (
        "created_at",
        "location",
        "location_ref",
        "moderator",
        "from_status",
        "to_status",
        "reason_code",
        "reason",
    )
    fields = readonly_fields

    @admin.display(description="place", ordering="location__name")
    def place(self, log: ModerationLog) -> str:
        if log.location is None:
            return f"deleted place {log.location_ref}"
        url = reverse("admin:locations_location_change", args=[log.location_ref])
        return format_html('<a href="{}">{}</a>', url, log.location.name)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser
