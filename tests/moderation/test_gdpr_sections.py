"""Flags, suspensions and photo decisions are personal data: in the GDPR export, gone
with the erasure (accounts.gdpr sections)."""

import pytest

from accounts.models import Suspension
from accounts.selectors import user_personal_data
from accounts.services import user_erase
from moderation import services
from moderation.models import Flag
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


def test_export_holds_the_users_flags_suspensions_and_photo_decisions(moderator):
    user = UserFactory()
    place = LocationFactory(approved=True)
    services.flag_create(
        reporter=user, target_type="location", target_id=place.id, reason="closed", comment="Shut."
    )
    photo = ImageFactory(uploader=user, location=place, moderation_status="pending")
    services.image_transition(image_id=photo.id, to_status="approved", moderator=moderator)
    services.user_suspend(username=user.username, moderator=moderator, reason="Spam.")

    data = user_personal_data(user=user)

    [flag] = data["flags"]
    assert (flag["location_id"], flag["reason"], flag["comment"], flag["status"]) == (
        str(place.id),
        "closed",
        "Shut.",
        "open",
    )
    [suspension] = data["suspensions"]
    assert suspension["reason"] == "Spam." and suspension["lifted_at"] is None
    [decision] = data["photo_decisions"]
    assert (decision["image_id"], decision["to_status"]) == (str(photo.id), "approved")
    # Nobody else's data: no moderator names.
    assert moderator.username not in str(data["flags"] + data["suspensions"])


def test_erasure_removes_flags_and_suspensions(moderator):
    user = UserFactory()
    place = LocationFactory(approved=True)
    services.flag_create(reporter=user, target_type="location", target_id=place.id, reason="spam")
    services.user_suspend(username=user.username, moderator=moderator, reason="Spam.")

    user_erase(user=user, delete_places=False)

    assert not Flag.objects.exists()
    assert not Suspension.objects.exists()
