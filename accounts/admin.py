from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm

from accounts.models import User
from accounts.usernames import username_skeleton
from config.text import clean_text


class _UsernameRulesMixin:
    """The API's username rules in the console: normalised text, and no name that looks
    like another account's (else the unique skeleton would fail the save with a 500)."""

    def clean_username(self):
        username = clean_text(self.cleaned_data.get("username") or "")
        if not username:
            raise forms.ValidationError("Enter a username.")
        taken = User.objects.filter(username_skeleton=username_skeleton(username))
        if self.instance.pk:
            taken = taken.exclude(pk=self.instance.pk)
        if taken.exists():
            raise forms.ValidationError("This username, or one that looks like it, is taken.")
        return username


class PlacemapUserCreationForm(_UsernameRulesMixin, AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User


class PlacemapUserChangeForm(_UsernameRulesMixin, UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = PlacemapUserChangeForm
    add_form = PlacemapUserCreationForm
    fieldsets = (
        *DjangoUserAdmin.fieldsets,
        # An operator may vouch for an address (an account made with createsuperuser
        # must verify too under ACCOUNT_EMAIL_VERIFICATION=mandatory: docs/accounts.md).
        ("Email and language", {"fields": ("email_verified", "language")}),
        ("Notifications", {"fields": ("wants_moderation_digest",)}),
        # Written by the moderators' trust actions and API (docs/moderation.md).
        ("Trust", {"fields": ("trust_override", "trust_set_at", "trust_set_by")}),
    )
    readonly_fields = ("trust_override", "trust_set_at", "trust_set_by")
    list_display = ("username", "email", "email_verified", "is_staff", "is_active", "date_joined")
