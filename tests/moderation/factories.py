import factory

from locations.models import LocationStatus
from moderation.models import ModerationLog
from tests.accounts.factories import ModeratorFactory
from tests.locations.factories import LocationFactory


class ModerationLogFactory(factory.django.DjangoModelFactory):
    """A moderator's decision on a place (pending to approved unless told otherwise)."""

    class Meta:
        model = ModerationLog

    location = factory.SubFactory(LocationFactory)
    location_ref = factory.LazyAttribute(lambda log: log.location.id)
    moderator = factory.SubFactory(ModeratorFactory)
    from_status = LocationStatus.PENDING
    to_status = LocationStatus.APPROVED
