"""Categories in the admin: for staff with the model's permissions
(locations.view_category, add_category, change_category, delete_category).

The list is edited in place (order, active); a category's page holds its label and
description in every language of settings.LANGUAGES. A category that places or their
revisions use cannot be deleted (the database refuses it too): deactivate it instead, and
it is refused for new places but kept on old ones (locations.categories).
"""

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db import transaction
from django.db.models import Q

from locations.categories import category_in_use, clear_cache
from locations.models import Category


class CategoryForm(forms.ModelForm):
    class Meta:
        model = Category
        fields = (
            "slug",
            "icon",
            "order",
            "active",
            "label_en",
            "description_en",
            "label_de",
            "description_de",
            "label_fr",
            "description_fr",
        )

    def clean(self):
        cleaned = super().clean()
        # An active category is shown to everyone: it needs every language.
        if cleaned.get("active"):
            for code, name in settings.LANGUAGES:
                for field in (f"label_{code}", f"description_{code}"):
                    if field in self.fields and not (cleaned.get(field) or "").strip():
                        self.add_error(field, f"An active category needs this in {name}.")
        return cleaned


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    form = CategoryForm
    list_display = ("slug", "label_en", "label_de", "label_fr", "icon", "order", "active")
    list_display_links = ("slug", "label_en")
    list_editable = ("order", "active")
    list_filter = ("active",)
    search_fields = ("slug", "label_en", "label_de", "label_fr")
    ordering = ("order", "slug")
    actions = ("deactivate_selected", "activate_selected")
    fieldsets = (
        (None, {"fields": ("slug", "icon", "order", "active")}),
        ("English", {"fields": ("label_en", "description_en")}),
        ("Deutsch", {"fields": ("label_de", "description_de")}),
        ("Français", {"fields": ("label_fr", "description_fr")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # Places name their category by slug: renaming one is a new category.
        return ("slug",) if obj is not None else ()

    def get_deleted_objects(self, objs, request):
        deleted, model_count, perms_needed, protected = super().get_deleted_objects(objs, request)
        # The places' category is a text column with a database constraint, which the
        # admin's collector does not see: list the categories in use as protected, so the
        # confirmation page refuses instead of the database raising.
        for category in objs:
            if category_in_use(category.slug):
                protected.append(
                    f"{category}: places use it. Deactivate it instead (untick “active”): "
                    "it is then refused for new places and kept on old ones."
                )
        return deleted, model_count, perms_needed, protected

    @admin.action(description="Deactivate the selected categories", permissions=["change"])
    def deactivate_selected(self, request, queryset):
        count = queryset.filter(active=True).update(active=False)
        _changed_in_bulk()
        self.message_user(request, f"{count} categories deactivated.", messages.SUCCESS)

    @admin.action(description="Activate the selected categories", permissions=["change"])
    def activate_selected(self, request, queryset):
        missing = queryset.filter(_untranslated()).values_list("slug", flat=True)
        if missing:
            self.message_user(
                request,
                "Not activated, translations missing: " + ", ".join(sorted(missing)) + ".",
                messages.ERROR,
            )
            return
        count = queryset.filter(active=False).update(active=True)
        _changed_in_bulk()
        self.message_user(request, f"{count} categories activated.", messages.SUCCESS)


def _untranslated() -> Q:
    missing = Q()
    for code, _name in settings.LANGUAGES:
        missing |= Q(**{f"label_{code}": ""}) | Q(**{f"description_{code}": ""})
    return missing


def _changed_in_bulk() -> None:
    # QuerySet.update() sends no post_save: drop this process's copy by hand.
    clear_cache()
    transaction.on_commit(clear_cache)
