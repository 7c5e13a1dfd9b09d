"""Reads of photos. Presigning is computed locally (no storage round trip), so these
keep working while storage is down."""

from django.http import Http404

from accounts.selectors import user_is_moderator
from media_store import storage
from media_store.models import Image


def presigned_url(key: str | None) -> str | None:
    if not key:
        return None
    return storage.presigned_get_url(key=key)


def smallest_thumbnail_key(image: Image) -> str | None:
    if not image.thumbnail_keys:
        return None
    return image.thumbnail_keys[min(image.thumbnail_keys, key=int)]


def image_public_dict(image: Image) -> dict:
    """What place detail and moderation lists show of one photo. `thumbnail_url` is the
    smallest thumbnail (None until the worker made them); `thumbnails` has every size."""
    return {
        "id": str(image.id),
        "url": presigned_url(image.key),
        "thumbnail_url": presigned_url(smallest_thumbnail_key(image)),
        "thumbnails": {
            size: presigned_url(key)
            for size, key in sorted(image.thumbnail_keys.items(), key=lambda kv: int(kv[0]))
        },
        "width": image.width,
        "height": image.height,
    }


def image_detail_dict(image: Image) -> dict:
    """What the uploader (or a moderator) sees: POST /images/upload, GET /images/{id}."""
    return {
        **image_public_dict(image),
        "status": image.status,
        "content_type": image.content_type,
        "size_bytes": image.size_bytes,
        "sha256": image.sha256,
        "location_id": str(image.location_id) if image.location_id else None,
        "created_at": image.created_at,
    }


def image_get_for_user(*, image_id, user) -> Image:
    """The image if `user` uploaded it or moderates; 404 otherwise (existence is not
    revealed to others)."""
    images = Image.objects.all()
    if not user_is_moderator(user):
        images = images.filter(uploader=user)
    image = images.filter(id=image_id).first()
    if image is None:
        raise Http404("No image with this id.")
    return image
