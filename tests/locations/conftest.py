import pytest

from tests.locations.factories import LocationFactory

API = "/api/v1"


@pytest.fixture
def place_of(db):
    """place_of(owner, status="approved", lon=..., lat=..., **fields)."""

    def make(owner, status="approved", *, lon=13.4050, lat=52.5200, **fields):
        from django.contrib.gis.geos import Point

        return LocationFactory(
            submitter=owner,
            point=Point(lon, lat, srid=4326),
            approved=(status == "approved"),
            **({} if status == "approved" else {"status": status}),
            **fields,
        )

    return make
