import pytest

from tests.locations.factories import LocationFactory

API = "/api/v1"

# locations.constants.CATEGORIES before categories became rows (migration 0012): the
# slugs and English labels that must survive unchanged, in their order.
MIGRATED_CATEGORIES = {
    "restaurant": "Restaurant",
    "cafe": "Café",
    "bar": "Bar",
    "park": "Park",
    "museum": "Museum",
    "viewpoint": "Viewpoint",
    "monument": "Monument",
    "shop": "Shop",
    "market": "Market",
    "library": "Library",
    "playground": "Playground",
    "toilet": "Public toilet",
    "drinking_water": "Drinking water",
    "other": "Other",
}


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
