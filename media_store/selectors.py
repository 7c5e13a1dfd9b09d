"""Reads of photos. Presigning is computed locally (no storage round trip), so these
keep working while storage is down."""

from collections.abc import Iterable, Sequence
from uuid import UUID

from django.db.models import Prefetch, Q, QuerySet
from django.http import Http404

from accounts.selectors import user_is_moderator
from media_store.models import Image, ImageModeration, ImageStatus
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
    has no thumbnails), in every moderation status but rejected, oldest first; one query
    for a whole page of places. For moderators' reads (queue, console); public and
    per-user reads use images_visible_prefetch. Use on a Location queryset:
    prefetch_related(images_ready_prefetch())."""
    return Prefetch(
        "images",
        queryset=Image.objects.filter(status=ImageStatus.READY)
        .exclude(moderation_status=ImageModeration.REJECTED)
        .order_by("created_at", "id"),
        to_attr=to_attr,
    )


def images_visible_q(*, user=None) -> Q:
    """Which photos `user` may see: approved ones for everybody, plus their own pending
    or hidden ones, plus every one not rejected for moderators (a rejected photo's
    objects are gone). None: the public."""
    if user is not None and user_is_moderator(user):
        return ~Q(moderation_status=ImageModeration.REJECTED)
    visible = Q(moderation_status=ImageModeration.APPROVED)
    if getattr(user, "is_authenticated", False):
        visible |= Q(uploader_id=user.pk) & ~Q(moderation_status=ImageModeration.REJECTED)
    return visible


def images_visible_prefetch(*, user=None, to_attr: str | None = None) -> Prefetch:
    """A place's ready photos that `user` may see (images_visible_q; None: the public,
    approved photos only), oldest first, in one query for a page of places."""
    return Prefetch(
        "images",
        queryset=Image.objects.filter(status=ImageStatus.READY)
        .filter(images_visible_q(user=user))
        .order_by("created_at", "id"),
        to_attr=to_attr,
    )


def image_get_visible(*, image_id, user) -> Image | None:
    """One ready photo `user` may see (images_visible_q), or None; whether its place is
    visible too is the caller's question (media_store does not know places)."""
    return (
        Image.objects.filter(status=ImageStatus.READY)
        .filter(images_visible_q(user=user))
        .filter(id=image_id)
        .first()
    )


def images_for_review(*, status: str = ImageModeration.PENDING) -> QuerySet[Image]:
    """Photos on a place in moderation `status`, oldest first (the longest waiting is
    decided first), with their uploader. Served by image_moderation_created. Unattached
    uploads are left out: they are decided with the place they are submitted with."""
    return (
        Image.objects.filter(moderation_status=status, location__isnull=False)
        .select_related("uploader")
        .order_by("created_at", "id")
    )


def image_for_review(*, image_id) -> Image:
    """One photo in any status. Raises Image.DoesNotExist."""
    return Image.objects.select_related("uploader").get(id=image_id)


def image_ids_of_uploader(*, user, moderation_status: str) -> list[UUID]:
    """The ids of `user`'s photos in `moderation_status`, oldest first."""
    return list(
        Image.objects.filter(uploader=user, moderation_status=moderation_status)
        .order_by("created_at", "id")
        .values_list("id", flat=True)
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


def images_by_id(*, image_ids) -> dict[UUID, Image]:
    """The photos `image_ids` (any status) with their uploader, by id, in one query."""
    return {
        image.id: image
        for image in Image.objects.filter(id__in=list(image_ids)).select_related("uploader")
    }
