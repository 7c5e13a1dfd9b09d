import pytest
from django.db import IntegrityError, connection, transaction

from locations.models import Location
from media_store.models import Image
from moderation.models import ModerationLog
from tests.accounts.factories import ModeratorFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_place_deletes_its_images():
    place = LocationFactory()
    ImageFactory.create_batch(2, location=place)
    place.delete()
    assert Image.objects.count() == 0


def _log_for(place, moderator):
    return ModerationLog.objects.create(
        location=place,
        location_ref=place.id,
        moderator=moderator,
        from_status="pending",
        to_status="approved",
    )


def test_the_moderation_log_survives_the_deletion_of_its_place():
    place = LocationFactory()
    log = _log_for(place, ModeratorFactory())
    place_id = place.id
    place.delete()
    log.refresh_from_db()
    assert log.location is None
    assert log.location_ref == place_id


def test_the_moderation_log_survives_the_deletion_of_its_moderator():
    moderator = ModeratorFactory()
    log = _log_for(LocationFactory(), moderator)
    moderator.delete()
    log.refresh_from_db()
    assert log.moderator is None
    assert log.to_status == "approved"


def test_the_database_rejects_an_unknown_status():
    place = LocationFactory()
    with pytest.raises(IntegrityError, match="location_status_valid"), transaction.atomic():
        Location.objects.filter(pk=place.pk).update(status="published")


def test_the_database_rejects_a_blank_name():
    place = LocationFactory()
    with (
        pytest.raises(IntegrityError, match="location_name_min_length"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute("UPDATE locations_location SET name = '  ab ' WHERE id = %s", [place.pk])


def test_the_search_vector_is_computed_by_the_database():
    place = LocationFactory(name="Riverside Bakery", description="fresh croissants")
    found = Location.objects.filter(search_vector="croissant").values_list("pk", flat=True)
    assert list(found) == [place.pk]
