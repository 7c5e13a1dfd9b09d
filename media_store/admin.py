from django.contrib import admin
from django.utils.html import format_html

from media_store import selectors
from media_store.models import Image


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    """Moderators look at photos and delete them; uploads only come through the API
    (the pipeline strips metadata), so rows are read-only here. Deleting a row deletes
    its stored objects after commit (media_store.signals)."""

    list_display = (
        "id",
        "preview",
        "location",
        "uploader",
        "status",
        "width",
        "height",
        "created_at",
    )
    list_filter = ("status", "content_type")
    search_fields = ("id", "location__name", "uploader__username", "sha256")
    list_select_related = ("location", "uploader")
    readonly_fields = (
        "id",
        "preview",
        "location",
        "uploader",
        "key",
        "thumbnail_keys",
        "width",
        "height",
        "content_type",
        "size_bytes",
        "sha256",
        "status",
        "created_at",
        "updated_at",
    )
    fields = readonly_fields

    def has_add_permission(self, request):
        return False

    @admin.display(description="Preview")
    def preview(self, image: Image):
        url = selectors.presigned_url(selectors.smallest_thumbnail_key(image) or image.key)
        return format_html('<img src="{}" style="max-height:96px;max-width:128px" alt="">', url)
