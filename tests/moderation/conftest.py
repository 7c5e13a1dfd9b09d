import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory
from tests.support import logged_in


@pytest.fixture
def submitter(db):
    return UserFactory()


@pytest.fixture
def pending_location(submitter):
    location = LocationFactory(submitter=submitter)
    ImageFactory(location=location, uploader=submitter)
    return location


@pytest.fixture
def approved_location(submitter):
    return LocationFactory(submitter=submitter, approved=True)


@pytest.fixture
def rejected_location(submitter):
    return LocationFactory(submitter=submitter, status="rejected")


@pytest.fixture
def staff_moderator(db):
    """A console moderator: staff, in the moderators group, not a superuser. Its admin
    permissions are the ones moderation/migrations/0002 gave the group."""
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=settings.MODERATORS_GROUP))
    return user


@pytest.fixture
def superuser(db):
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def staff_moderator_browser(staff_moderator) -> Client:
    return logged_in(staff_moderator)


@pytest.fixture
def superuser_browser(superuser) -> Client:
    return logged_in(superuser)
