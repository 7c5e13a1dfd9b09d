import pytest

from tests.accounts.factories import ModeratorFactory
from tests.locations.factories import LocationFactory
from tests.moderation.factories import ModerationLogFactory

pytestmark = pytest.mark.django_db


def test_the_moderation_log_survives_the_deletion_of_its_place():
    place = LocationFactory()
    log = ModerationLogFactory(location=place)
    place_id = place.id
    place.delete()
    log.refresh_from_db()
    assert log.location is None
    assert log.location_ref == place_id


def test_the_moderation_log_survives_the_deletion_of_its_moderator():
    moderator = ModeratorFactory()
    log = ModerationLogFactory(moderator=moderator)
    moderator.delete()
    log.refresh_from_db()
    assert log.moderator is None
    assert log.to_status == "approved"
