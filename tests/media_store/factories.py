import uuid

import factory

from media_store.models import Image, ImageModeration, ImageStatus
from tests.accounts.factories import UserFactory


class ImageFactory(factory.django.DjangoModelFactory):
    """A row only; tests that need the objects upload through the real pipeline."""

    class Meta:
        model = Image

    id = factory.LazyFunction(uuid.uuid4)
    uploader = factory.SubFactory(UserFactory)
    key = factory.LazyAttribute(lambda img: f"images/{img.id}/original.jpg")
    thumbnail_keys = factory.LazyAttribute(lambda img: {"256": f"images/{img.id}/thumb-256.webp"})
    width = 800
    height = 600
    content_type = "image/jpeg"
    size_bytes = 12345
    sha256 = "0" * 64
    status = ImageStatus.READY
    # Public unless a test says otherwise (photo moderation tests set pending/hidden).
    moderation_status = ImageModeration.APPROVED
