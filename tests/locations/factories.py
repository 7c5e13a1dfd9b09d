import factory
from django.contrib.gis.geos import Point
from django.utils import timezone

from locations.models import Location, LocationStatus
from tests.accounts.factories import UserFactory


class LocationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Location

    name = factory.Sequence(lambda n: f"Place number {n}")
    description = "A pleasant spot with benches and shade."
    category = "park"
    address = ""
    point = factory.LazyFunction(lambda: Point(13.4050, 52.5200, srid=4326))
    status = LocationStatus.PENDING
    submitter = factory.SubFactory(UserFactory)

    class Params:
        approved = factory.Trait(
            status=LocationStatus.APPROVED, approved_at=factory.LazyFunction(timezone.now)
        )
