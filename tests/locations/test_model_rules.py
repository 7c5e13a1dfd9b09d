import pytest
from django.db import IntegrityError, connection, transaction

from locations.models import Location
from media_store.models import Image
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


def test_deleting_a_place_deletes_its_images():
    place = LocationFactory()
    ImageFactory.create_batch(2, location=place)
    place.delete()
    assert Image.objects.count() == 0


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
