import pytest

from tests.accounts.factories import ModeratorFactory, UserFactory
from tests.locations.factories import LocationFactory


@pytest.fixture
def submitter(db):
    return UserFactory(username="ada", first_name="Ada", last_name="Lovelace")


@pytest.fixture
def place(submitter):
    return LocationFactory(name="Fish & Chips <Harbour>", submitter=submitter)


@pytest.fixture
def digest_moderator(db):
    moderator = ModeratorFactory(username="grace")
    moderator.wants_moderation_digest = True
    moderator.save(update_fields=["wants_moderation_digest"])
    return moderator
