"""Admin building blocks shared by the apps' consoles."""

from django.contrib import admin


class ReadOnlyInline(admin.TabularInline):
    """Shown, never edited: no add, change or delete from the parent's page."""

    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
