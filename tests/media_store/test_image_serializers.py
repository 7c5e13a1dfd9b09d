"""The one rendering of a photo (ImagePublicSerializer, ImageDetailSerializer) and the
console's thumbnail (thumbnail_tag, ImageThumbnailInline)."""

from urllib.parse import urlsplit

import pytest
from django.contrib import admin
from django.test import RequestFactory

from media_store.admin import ImageThumbnailInline, thumbnail_tag
from media_store.api.serializers import ImageDetailSerializer, ImagePublicSerializer
from media_store.models import ImageStatus
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


def _path(url: str) -> str:
    return urlsplit(url).path.split("/", 2)[2]  # drop the bucket


def test_the_public_shape_has_signed_urls_smallest_thumbnail_first(user):
    image = ImageFactory(uploader=user)
    image.thumbnail_keys = {
        "1024": f"images/{image.id}/thumb-1024.webp",
        "256": f"images/{image.id}/thumb-256.webp",
    }

    data = ImagePublicSerializer(image).data

    assert set(data) == {
        "id",
        "url",
        "thumbnail_url",
        "thumbnails",
        "width",
        "height",
        "moderation_status",
    }
    assert data["id"] == str(image.id)
    assert _path(data["url"]) == f"images/{image.id}/original.jpg"
    assert _path(data["thumbnail_url"]) == f"images/{image.id}/thumb-256.webp"
    assert list(data["thumbnails"]) == ["256", "1024"]
    assert _path(data["thumbnails"]["1024"]) == f"images/{image.id}/thumb-1024.webp"
    assert (data["width"], data["height"]) == (800, 600)


def test_a_photo_without_thumbnails_has_none_yet(user):
    image = ImageFactory(uploader=user, status=ImageStatus.PROCESSING, thumbnail_keys={})

    data = ImagePublicSerializer(image).data

    assert data["thumbnail_url"] is None and data["thumbnails"] == {}
    assert data["url"]  # the optimized original always works


def test_the_detail_shape_adds_what_the_uploader_sees(user):
    place = LocationFactory(submitter=user)
    image = ImageFactory(uploader=user, location=place)

    data = ImageDetailSerializer(image).data

    assert set(data) == {
        *ImagePublicSerializer(image).data,
        "status",
        "content_type",
        "size_bytes",
        "sha256",
        "location_id",
        "version",
        "created_at",
    }
    assert data["location_id"] == str(place.id)
    assert data["status"] == "ready" and data["size_bytes"] == 12345
    assert ImageDetailSerializer(ImageFactory(uploader=user)).data["location_id"] is None


def test_the_thumbnail_tag_shows_the_smallest_thumbnail_or_the_status(user):
    ready = ImageFactory(uploader=user)
    waiting = ImageFactory(uploader=user, status=ImageStatus.PROCESSING, thumbnail_keys={})

    tag = thumbnail_tag(ready, size=64)
    assert tag.startswith("<img ") and "thumb-256.webp" in tag and "max-width:64px" in tag
    assert thumbnail_tag(waiting) == "<span>Processing</span>"


def test_the_inline_lists_a_places_photos_read_only(moderator):
    place = LocationFactory()
    ImageFactory(location=place)
    request = RequestFactory().get("/")
    request.user = moderator
    inline = ImageThumbnailInline(place.__class__, admin.site)

    assert not inline.has_add_permission(request, place)
    assert not inline.has_change_permission(request, place)
    assert not inline.has_delete_permission(request, place)
    assert "thumb-256.webp" in inline.thumbnail(place.images.get())


def test_the_photo_page_links_its_key_through_the_storage(admin_client, settings, user):
    settings.STORAGE_PUBLIC_ENDPOINT_URL = "https://photos.example.test"
    image = ImageFactory(uploader=user)

    response = admin_client.get(f"/admin/media_store/image/{image.id}/change/")

    assert response.status_code == 200
    page = response.content.decode()
    link = f'href="https://photos.example.test/{settings.AWS_STORAGE_BUCKET_NAME}/{image.key.name}?'
    assert link in page  # a presigned URL on the public host, not a bare key
