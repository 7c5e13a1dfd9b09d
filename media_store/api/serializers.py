"""Input and output shapes of the photos API, and the one rendering of a photo that every
API showing photos uses (place detail, own places, moderation lists, uploads)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from media_store.models import ImageModeration, ImageStatus
from media_store.selectors import presigned_url, smallest_thumbnail_key


class ImageUploadInputSerializer(serializers.Serializer):
    # The name and Content-Type the client sends are ignored: the type is decided from
    # the bytes (media_store.imaging), the storage key from a new UUID.
    file = serializers.FileField(allow_empty_file=False, use_url=False)
    location_id = serializers.UUIDField(required=False, allow_null=True)

    class Meta:
        ref_name = "ImageUploadInput"


@extend_schema_field(OpenApiTypes.URI)
class StoredObjectUrlField(serializers.Field):
    """A presigned GET URL (signed locally for STORAGE_PUBLIC_ENDPOINT_URL) of the
    object whose key is the attribute; None without a key."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return presigned_url(value)

    def get_attribute(self, instance):
        # A FileField with no file is falsy but not None: DRF would pass it on.
        value = super().get_attribute(instance)
        return value or None


@extend_schema_field(
    {"type": "object", "additionalProperties": {"type": "string", "format": "uri"}}
)
class ThumbnailUrlsField(serializers.Field):
    """{"256": url, "1024": url}, smallest size first."""

    def __init__(self, **kwargs):
        kwargs.setdefault("read_only", True)
        super().__init__(**kwargs)

    def to_representation(self, value):
        return {
            size: presigned_url(key)
            for size, key in sorted(value.items(), key=lambda kv: int(kv[0]))
        }


class ImagePublicSerializer(serializers.Serializer):
    """A photo as anyone who may see its place sees it. `thumbnail_url` is the smallest
    thumbnail (None until the worker made them); `thumbnails` has every size."""

    id = serializers.UUIDField(read_only=True)
    url = StoredObjectUrlField(source="key", allow_null=True)
    thumbnail_url = serializers.SerializerMethodField()
    thumbnails = ThumbnailUrlsField(source="thumbnail_keys")
    width = serializers.IntegerField(read_only=True)
    height = serializers.IntegerField(read_only=True)
    # Always "approved" for the public; the uploader and moderators also see their
    # pending (and hidden) photos, so they can tell them apart.
    moderation_status = serializers.ChoiceField(choices=ImageModeration.values, read_only=True)

    class Meta:
        ref_name = "ImagePublic"

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_thumbnail_url(self, image) -> str | None:
        return presigned_url(smallest_thumbnail_key(image))


class ImageDetailSerializer(ImagePublicSerializer):
    """What the uploader (or a moderator) sees: POST /images/upload, GET /images/{id}."""

    status = serializers.ChoiceField(choices=ImageStatus.values, read_only=True)
    content_type = serializers.CharField(read_only=True)
    size_bytes = serializers.IntegerField(read_only=True)
    sha256 = serializers.CharField(read_only=True)
    location_id = serializers.UUIDField(read_only=True, allow_null=True)
    # The photo's moderation version: PATCH /admin/images/{id}/status may name it.
    version = serializers.IntegerField(read_only=True)
    created_at = serializers.DateTimeField(read_only=True)

    class Meta:
        ref_name = "ImageDetail"


# The name used before the single definition; kept for imports that still use it.
ImageOutputSerializer = ImageDetailSerializer
