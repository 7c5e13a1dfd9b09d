from locations.models import Location
from tests.locations.factories import LocationFactory
from tests.locations.test_subnormal_coordinates import SUBNORMAL, raw_place
from tests.moderation.test_admin import action_post


def test_admin_bulk_approve_approves_a_page_holding_a_subnormal_place(staff_moderator_browser):
    raw = Location.objects.get(id=raw_place(-SUBNORMAL, SUBNORMAL, name="Tiny raw place"))
    others = [LocationFactory() for _ in range(3)]

    response = action_post(staff_moderator_browser, "approve_selected", [raw, *others])

    assert response.status_code == 302
    assert set(Location.objects.values_list("status", flat=True)) == {"approved"}
