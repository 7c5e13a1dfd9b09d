from django.contrib import admin
from django.utils.html import format_html
from django.utils.safestring import SafeString

from config.admin_inlines import ReadOnlyInline
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
        url = selectors.presigned_url(selectors.smallest_thumbnail_key(image) or image.key.name)
        return format_html('<img src="{}" style="max-height:96px;max-width:128px" alt="">', url)


def thumbnail_tag(image: Image, *, size: int = 96) -> SafeString:
    """The photo's smallest thumbnail as an <img>, or its status while it has none."""
    # Only the smallest thumbnail is signed: the public serializer would sign every size
    # and the original (about 1 ms each), for a page that shows one small picture.
    url = selectors.presigned_url(selectors.smallest_thumbnail_key(image))
    if not url:
        return format_html("<span>{}</span>", image.get_status_display())
    return format_html(
        '<img src="{}" alt="" style="max-width:{}px;max-height:{}px" loading="lazy">',
        url,
        size,
        size,
    )


class ImageThumbnailInline(ReadOnlyInline):
    """A place's photos on its console page: shown, never edited (uploads only come
    through the API, deletion through the photo's own page)."""

    model = Image
    fk_name = "location"
    fields = ("thumbnail", "width", "height", "content_type", "status", "created_at")
    readonly_fields = fields
    verbose_name_plural = "photos"

    @admin.display(description="thumbnail")
    def thumbnail(self, image: Image) -> SafeString:
        return thumbnail_tag(image, size=256)
