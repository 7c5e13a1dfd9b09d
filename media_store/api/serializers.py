from rest_framework import serializers


class ImageUploadInputSerializer(serializers.Serializer):
    # The name and Content-Type the client sends are ignored: the type is decided from
    # the bytes (media_store.imaging), the storage key from a new UUID.
    file = serializers.FileField(allow_empty_file=False, use_url=False)
    location_id = serializers.UUIDField(required=False, allow_null=True)

    class Meta:
        ref_name = "ImageUploadInput"


class ImageOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.ChoiceField(choices=["processing", "ready", "failed"])
    url = serializers.URLField()
    thumbnail_url = serializers.URLField(allow_null=True)
    thumbnails = serializers.DictField(child=serializers.URLField())
    width = serializers.IntegerField()
    height = serializers.IntegerField()
    content_type = serializers.CharField()
    size_bytes = serializers.IntegerField()
    sha256 = serializers.CharField()
    location_id = serializers.UUIDField(allow_null=True)
    created_at = serializers.DateTimeField()

    class Meta:
        ref_name = "ImageDetail"
