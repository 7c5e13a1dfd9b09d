"""images_attach: location_create's way of attaching photos to a new place, and the
selectors that go with it."""

import uuid

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from locations.models import Location
from media_store.models import Image, ImageStatus
from media_store.selectors import image_ids_unattachable, images_count, images_ready_prefetch
from media_store.services import ImagesNotAttachable, images_attach
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


def test_it_attaches_the_uploaders_unattached_photos(user):
    place = LocationFactory(submitter=user)
    ready = ImageFactory(uploader=user, location=None)
    processing = ImageFactory(uploader=user, location=None, status=ImageStatus.PROCESSING)

    images_attach(image_ids=[ready.id, processing.id], uploader=user, location_id=place.id)

    assert set(place.images.values_list("id", flat=True)) == {ready.id, processing.id}


def test_it_refuses_unknown_foreign_attached_and_failed_photos_and_attaches_none(user, other_user):
    place = LocationFactory(submitter=user)
    mine = ImageFactory(uploader=user, location=None)
    theirs = ImageFactory(uploader=other_user, location=None)
    attached = ImageFactory(uploader=user, location=LocationFactory(submitter=user))
    failed = ImageFactory(uploader=user, location=None, status=ImageStatus.FAILED)
    unknown = uuid.uuid4()
    wanted = [mine.id, theirs.id, attached.id, failed.id, unknown]

    with pytest.raises(ImagesNotAttachable) as caught:
        images_attach(image_ids=wanted, uploader=user, location_id=place.id)

    refused = [theirs.id, attached.id, failed.id, unknown]
    assert caught.value.image_ids == refused
    assert caught.value.status == 400
    assert caught.value.errors == {
        "image_ids": ["Unknown, not yours, or already attached: " + ", ".join(map(str, refused))]
    }
    assert Image.objects.get(id=mine.id).location_id is None  # nothing half-attached


def test_attaching_no_photos_touches_nothing(user, django_assert_num_queries):
    place = LocationFactory(submitter=user)
    with django_assert_num_queries(0):
        images_attach(image_ids=[], uploader=user, location_id=place.id)


def test_it_locks_the_photos_in_id_order(user):
    place = LocationFactory(submitter=user)
    photos = [ImageFactory(uploader=user, location=None) for _ in range(3)]

    with CaptureQueriesContext(connection) as queries:
        images_attach(
            image_ids=[p.id for p in reversed(photos)], uploader=user, location_id=place.id
        )

    locking = [q["sql"] for q in queries.captured_queries if "FOR UPDATE" in q["sql"]]
    assert len(locking) == 1 and "ORDER BY" in locking[0]


def test_the_anonymous_cannot_attach_anything():
    photo = ImageFactory(location=None)
    assert image_ids_unattachable(image_ids=[photo.id], uploader=None) == [photo.id]


def test_unattachable_ids_keep_the_order_given(user, other_user):
    a = ImageFactory(uploader=other_user, location=None)
    b = ImageFactory(uploader=other_user, location=None)
    assert image_ids_unattachable(image_ids=[b.id, a.id], uploader=user) == [b.id, a.id]


def test_images_count_counts_every_photo_of_the_places(user):
    first, second, other = (LocationFactory(submitter=user) for _ in range(3))
    ImageFactory(location=first)
    ImageFactory(location=first, status=ImageStatus.FAILED)
    ImageFactory(location=second)
    ImageFactory(location=other)

    assert images_count(location_ids=[first.id, second.id]) == 3
    assert images_count(location_ids=[]) == 0


def test_the_ready_prefetch_shows_only_ready_photos_oldest_first(user, django_assert_num_queries):
    place = LocationFactory(submitter=user)
    older = ImageFactory(location=place)
    ImageFactory(location=place, status=ImageStatus.PROCESSING)
    ImageFactory(location=place, status=ImageStatus.FAILED)
    newer = ImageFactory(location=place)

    with django_assert_num_queries(2):
        loaded = Location.objects.prefetch_related(images_ready_prefetch()).get(id=place.id)
        shown = [image.id for image in loaded.images.all()]
    assert shown == [older.id, newer.id]


def test_a_new_place_with_someone_elses_photo_is_not_created(user, other_user):
    from django.core.exceptions import ValidationError

    from locations.services import location_create

    theirs = ImageFactory(uploader=other_user, location=None)
    with pytest.raises(ValidationError) as caught:
        location_create(
            submitter=user,
            name="Mine",
            category="park",
            latitude=1.0,
            longitude=2.0,
            image_ids=[theirs.id],
        )
    assert caught.value.message_dict == {
        "image_ids": [f"Unknown, not yours, or already attached: {theirs.id}"]
    }
    assert Location.objects.count() == 0
