import asyncio

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client

from locations import feed
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory


class MapFeedListener:
    """A member of the live feed's channel-layer group, as a map client's consumer is."""

    def __init__(self):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(feed.MAP_GROUP, self.channel)

    def receive(self, timeout: float = 2.0) -> dict:
        async def _receive():
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        return async_to_sync(_receive)()

    def received_nothing(self, timeout: float = 0.3) -> bool:
        try:
            self.receive(timeout=timeout)
        except TimeoutError:
            return True
        return False

    def close(self):
        async_to_sync(self.layer.group_discard)(feed.MAP_GROUP, self.channel)


@pytest.fixture
def map_feed():
    listener = MapFeedListener()
    yield listener
    listener.close()


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


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def staff_moderator_browser(staff_moderator) -> Client:
    return logged_in(staff_moderator)


@pytest.fixture
def superuser_browser(superuser) -> Client:
    return logged_in(superuser)
