"""A small world for GDPR tests: one data subject with data of every kind, and another
user (plus a moderator) whose data must never leak into the subject's export."""

from dataclasses import dataclass

from django.contrib.gis.geos import Point
from rest_framework.authtoken.models import Token

from accounts.services import moderator_grant
from locations.models import Location
from media_store import storage
from media_store.models import Image
from moderation import services as moderation
from tests.accounts.factories import ModeratorFactory, UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

SUBJECT_USERNAME = "zelda-gdpr-subject"
SUBJECT_EMAIL = "zelda.gdpr.subject@mail.example"
SUBJECT_FIRST_NAME = "Zeldaqwerty"
SUBJECT_LAST_NAME = "Quixotezyx"
OTHER_USERNAME = "otto-other-person"
OTHER_EMAIL = "otto.other@mail.example"
MODERATOR_USERNAME = "mona-moderator"


@dataclass
class World:
    subject: object
    other: object
    moderator: object
    token: Token
    pending: Location
    approved: Location
    rejected: Location
    other_place: Location
    photo: Image  # on the approved place, object in storage
    loose_photo: Image  # never attached, object in storage
    processing_photo: Image  # no object yet
    other_photo: Image
    photo_bytes: dict


def _stored_image(*, uploader, location, body: bytes) -> Image:
    image = ImageFactory(uploader=uploader, location=location)
    storage.put_object(key=image.key, body=body, content_type="image/jpeg")
    for key in image.thumbnail_keys.values():
        storage.put_object(key=key, body=b"thumb:" + body, content_type="image/webp")
    return image


def build_world() -> World:
    subject = UserFactory(
        username=SUBJECT_USERNAME,
        email=SUBJECT_EMAIL,
        first_name=SUBJECT_FIRST_NAME,
        last_name=SUBJECT_LAST_NAME,
    )
    other = UserFactory(username=OTHER_USERNAME, email=OTHER_EMAIL)
    moderator = ModeratorFactory(username=MODERATOR_USERNAME, email="mona@mail.example")
    token = Token.objects.create(user=subject)

    pending = LocationFactory(submitter=subject, name="Subject pending bakery")
    approved = LocationFactory(
        submitter=subject, name="Subject approved fountain", point=Point(2.35, 48.85, srid=4326)
    )
    rejected = LocationFactory(submitter=subject, name="Subject rejected shed")
    other_place = LocationFactory(submitter=other, name="Otto's secret garden")

    moderation.location_approve(location_id=approved.id, moderator=moderator)
    moderation.location_reject(
        location_id=rejected.id,
        moderator=moderator,
        reason_code="duplicate",
        reason="Already on the map as the old shed.",
    )
    moderation.location_reject(
        location_id=other_place.id,
        moderator=moderator,
        reason_code="privacy",
        reason="Otto's private address.",
    )
    # The subject is a moderator too, once: their decision on Otto's place must survive
    # their erasure, without their name.
    moderator_grant(user=subject)
    moderation.location_approve(location_id=other_place.id, moderator=subject)

    photo_bytes = {"photo": b"\xff\xd8subject-photo", "loose": b"\xff\xd8subject-loose"}
    photo = _stored_image(uploader=subject, location=approved, body=photo_bytes["photo"])
    loose_photo = _stored_image(uploader=subject, location=None, body=photo_bytes["loose"])
    processing_photo = ImageFactory(uploader=subject, location=pending, status="processing")
    other_photo = _stored_image(uploader=other, location=other_place, body=b"\xff\xd8otto")
    for place in (pending, approved, rejected, other_place):
        place.refresh_from_db()
    return World(
        subject=subject,
        other=other,
        moderator=moderator,
        token=token,
        pending=pending,
        approved=approved,
        rejected=rejected,
        other_place=other_place,
        photo=photo,
        loose_photo=loose_photo,
        processing_photo=processing_photo,
        other_photo=other_photo,
        photo_bytes=photo_bytes,
    )
