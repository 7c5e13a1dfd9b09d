from django.contrib import admin
from django.http import HttpRequest

from notifications.models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = (
        "id",
        "event",
        "recipient",
        "channel",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "event", "channel")
    search_fields = ("idempotency_key", "recipient__username", "recipient__email")
    list_select_related = ("recipient",)
    date_hierarchy = "created_at"
    readonly_fields = [field.name for field in Notification._meta.fields]

    # Written by notifications.services only: the row is the proof of what was sent.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
