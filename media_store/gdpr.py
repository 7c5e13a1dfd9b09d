"""The photos a user uploaded, in their GDPR export and erasure (accounts.gdpr)."""

import mimetypes
from collections.abc import Callable

from accounts.gdpr import GdprSection, export_timestamp, register_section
from media_store import storage
from media_store.models import Image


def images_export(*, user) -> list[dict]:
    return [
        {
            "id": str(image.id),
            "location_id": str(image.location_id) if image.location_id else None,
            "status": image.status,
            "moderation_status": image.moderation_status,
            "content_type": image.content_type,
            "width": image.width,
            "height": image.height,
            "size_bytes": image.size_bytes,
            "sha256": image.sha256,
            "created_at": export_timestamp(image.created_at),
        }
        for image in Image.objects.filter(uploader=user).order_by("created_at", "id")
    ]


def _photo_name(image_id: str, content_type: str) -> str:
    extension = {"image/jpeg": ".jpg"}.get(content_type) or mimetypes.guess_extension(content_type)
    return f"photos/{image_id}{extension or '.bin'}"


def images_attach_files(*, user, rows: list[dict], add: Callable[[str, bytes], None]) -> int:
    """Each photo's stored object, as photos/<id>.<ext>, read through the image storage;
    `file` is null where there is none (still processing, failed, lost). Storage being
    down raises StorageUnavailable: the export fails rather than silently leaving photos
    out."""
    keys = {
        str(image_id): key
        for image_id, key in Image.objects.filter(uploader=user).values_list("id", "key")
    }
    photos = storage.image_storage()
    included = 0
    for row in rows:
        row["file"] = None
        if not keys[row["id"]]:
            continue
        try:
            with photos.open(keys[row["id"]], "rb") as stored:
                body = stored.read()
        except storage.StorageObjectNotFound:
            continue
        row["file"] = _photo_name(row["id"], row["content_type"])
        add(row["file"], body)
        included += 1
    return included


def images_erase(*, user, delete_places: bool) -> dict[str, int]:
    # Photos never attached to a place were never public: they are only the user's.
    # ORM delete: each row's post_delete removes its objects from storage after commit.
    _, counts = Image.objects.filter(uploader=user, location__isnull=True).delete()
    return {"images_deleted": counts.get(Image._meta.label, 0)}


register_section(
    GdprSection(
        key="images",
        export=images_export,
        attach_files=images_attach_files,
        erase=images_erase,
        order=20,
    )
)
