from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin

from accounts.models import User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        ("Notifications", {"fields": ("wants_moderation_digest",)}),
    )
    list_display = ("username", "email", "is_staff", "is_active", "date_joined")
