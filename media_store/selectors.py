"""Reads of photos. Presigning is computed locally (no storage round trip)."""

from django.conf import settings

from media_store import storage
from media_store.models import Image


def presigned_url(key: str | None) -> str | None:
    if not key:
        return None
    return storage.s3_client().generate_presigned_url(
        "get_object",
        Params={"Bucket": storage.bucket_name(), "Key": key},
        ExpiresIn=settings.AWS_QUERYSTRING_EXPIRE,
    )


def smallest_thumbnail_key(image: Image) -> str | None:
    if not image.thumbnail_keys:
        return None
    return image.thumbnail_keys[min(image.thumbnail_keys, key=int)]


def image_public_dict(image: Image) -> dict:
    """What place detail and moderation lists show of one photo."""
    return {
        "id": str(image.id),
        "url": presigned_url(image.key),
        "thumbnail_url": presigned_url(smallest_thumbnail_key(image)),
        "width": image.width,
        "height": image.height,
    }
