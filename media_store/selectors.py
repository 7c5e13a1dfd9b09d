"""Reads of photos. Presigning is computed locally (no storage round trip), so these
keep working while storage is down."""

from collections.abc import Iterable, Sequence
from uuid import UUID

from django.db.models import Prefetch
from django.http import Http404

from accounts.selectors import user_is_moderator
from media_store.models import Image, ImageStatus
from media_store.storage import image_storage


def presigned_url(key: str | None) -> str | None:
    if not key:
        return None
    return image_storage().url(getattr(key, "name", key))


def smallest_thumbnail_key(image: Image) -> str | None:
    if not image.thumbnail_keys:
        return None
    return image.thumbnail_keys[min(image.thumbnail_keys, key=int)]


def image_public_dict(image: Image) -> dict:
    """What place detail and moderation lists show of one photo (kept until they render
    with media_store.api.serializers.ImagePublicSerializer, which gives the same)."""
    from media_store.api.serializers import ImagePublicSerializer

    return dict(ImagePublicSerializer(image).data)


def image_detail_dict(image: Image) -> dict:
    """What the uploader (or a moderator) sees: POST /images/upload, GET /images/{id}."""
    from media_store.api.serializers import ImageDetailSerializer

    return dict(ImageDetailSerializer(image).data)


def images_ready_prefetch(to_attr: str | None = None) -> Prefetch:
    """A place's photos that can be shown (ready: a failed or still-processing upload
    has no thumbnails), oldest first; one query for a whole page of places. Use on a
    Location queryset: prefetch_related(images_ready_prefetch())."""
    return Prefetch(
        "images",
        queryset=Image.objects.filter(status=ImageStatus.READY).order_by("created_at", "id"),
        to_attr=to_attr,
    )


def image_ids_unattachable(
    *, image_ids: Sequence[UUID], uploader, lock: bool = False
) -> list[UUID]:
    """The ids among `image_ids` that `uploader` cannot attach to a new place: unknown,
    someone else's, already attached, or failed, in the order given. With lock=True the
    rows stay locked (SELECT ... FOR UPDATE, in id order so two callers cannot deadlock)
    until the caller's transaction ends, so two submissions cannot both attach one."""
    queryset = Image.objects.filter(id__in=image_ids).order_by("id")
    if lock:
        queryset = queryset.select_for_update()
    usable = {
        row["id"]
        for row in queryset.values("id", "uploader_id", "location_id", "status")
        if uploader is not None
        and row["uploader_id"] == uploader.pk
        and row["location_id"] is None
        and row["status"] != ImageStatus.FAILED
    }
    return [image_id for image_id in image_ids if image_id not in usable]


def images_count(*, location_ids: Iterable[UUID]) -> int:
    """How many photos (any status) the places `location_ids` have."""
    return Image.objects.filter(location_id__in=list(location_ids)).count()


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
