import pytest

from accounts.selectors import moderators_wanting_digest
from tests.accounts.factories import ModeratorFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_the_digest_goes_only_to_active_moderators_who_asked_and_have_an_email():
    wanting = ModeratorFactory(wants_moderation_digest=True)
    staff = UserFactory(is_staff=True, wants_moderation_digest=True)
    ModeratorFactory(wants_moderation_digest=False)
    ModeratorFactory(wants_moderation_digest=True, email="")
    ModeratorFactory(wants_moderation_digest=True, is_active=False)
    UserFactory(wants_moderation_digest=True)  # not a moderator

    assert list(moderators_wanting_digest()) == sorted([wanting, staff], key=lambda u: u.pk)
