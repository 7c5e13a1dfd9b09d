"""Trust tiers and the spam score (docs/moderation.md "Trust tiers", "Spam score")."""

from datetime import timedelta

import pytest
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import User
from locations.models import Location
from media_store.models import Image
from moderation.models import ImageModerationLog, ModerationLog
from moderation.spam import WEIGHTS, spam_max_score
from moderation.trust import user_is_trusted
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

API = "/api/v1"
PLACE = {"name": "Quiet garden", "category": "park", "latitude": 48.85, "longitude": 2.35}
SPAMMY = {
    **PLACE,
    "name": "BEST CHEAP PILLS",
    "description": "Visit www.pills.example.com or call +49 30 1234 5678 now!!!!!",
}


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def submit(client, body=PLACE):
    return client.post(f"{API}/locations", body, format="json")


def seasoned_user(approved: int = 10, *, days_old: int = 400) -> User:
    user = UserFactory(date_joined=timezone.now() - timedelta(days=days_old))
    LocationFactory.create_batch(approved, submitter=user, approved=True)
    return user


def trust_url(username: str) -> str:
    return f"{API}/admin/users/{username}/trust"


# --- trust ---------------------------------------------------------------------------------


@override_settings(TRUST_AUTO_APPROVE_AFTER=10)
def test_a_trusted_submitters_place_is_approved_at_once_with_its_photos():
    user = seasoned_user(10)
    photo = ImageFactory(uploader=user, location=None)

    response = submit(client_for(user), {**PLACE, "image_ids": [str(photo.id)]})

    assert response.status_code == 201, response.content
    assert response.json()["properties"]["status"] == "approved"
    log = ModerationLog.objects.get(location_ref=response.json()["id"])
    assert (log.moderator, log.from_status, log.to_status, log.reason_code) == (
        None,
        "pending",
        "approved",
        "trusted",
    )
    assert Image.objects.get(pk=photo.pk).moderation_status == "approved"
    assert APIClient().get(f"{API}/locations/{response.json()['id']}").status_code == 200


@override_settings(TRUST_AUTO_APPROVE_AFTER=10)
def test_one_approved_place_short_of_the_threshold_is_reviewed():
    user = seasoned_user(9)

    assert submit(client_for(user)).json()["properties"]["status"] == "pending"


@override_settings(TRUST_AUTO_APPROVE_AFTER=3, TRUST_WINDOW_DAYS=90)
def test_a_recent_spam_or_inappropriate_rejection_costs_the_trust_until_the_window_passes(
    moderator,
):
    from moderation.services import location_reject

    user = seasoned_user(3)
    bad = LocationFactory(submitter=user)
    log = location_reject(
        location_id=bad.id, moderator=moderator, reason_code="inappropriate", reason="Rude."
    )
    assert not user_is_trusted(user)

    ModerationLog.objects.filter(pk=log.pk).update(created_at=timezone.now() - timedelta(days=91))
    assert user_is_trusted(user)


@override_settings(TRUST_AUTO_APPROVE_AFTER=3)
def test_a_trusted_uploaders_photo_on_an_approved_place_is_approved_at_once(moderator):
    from moderation.services import image_attached_review

    user = seasoned_user(3)
    public = Location.objects.filter(submitter=user).first()
    photo = ImageFactory(uploader=user, location=public, moderation_status="pending")

    image_attached_review(image=photo)

    photo.refresh_from_db()
    assert photo.moderation_status == "approved"
    assert ImageModerationLog.objects.get(image_ref=photo.id).reason_code == "trusted"
    newcomer_photo = ImageFactory(
        uploader=UserFactory(), location=public, moderation_status="pending"
    )
    image_attached_review(image=newcomer_photo)
    newcomer_photo.refresh_from_db()
    assert newcomer_photo.moderation_status == "pending"


def test_a_moderator_grants_and_withdraws_trust_by_hand(moderator_client):
    newcomer = UserFactory()
    veteran = seasoned_user(10)

    granted = moderator_client.post(trust_url(newcomer.username))
    assert granted.status_code == 200
    assert granted.json()["trusted"] is True
    assert granted.json()["override"] == "granted"
    assert submit(client_for(newcomer)).json()["properties"]["status"] == "approved"

    withdrawn = moderator_client.delete(trust_url(veteran.username))
    assert withdrawn.status_code == 200
    assert (withdrawn.json()["trusted"], withdrawn.json()["override"]) == (False, "withdrawn")
    assert submit(client_for(veteran)).json()["properties"]["status"] == "pending"


def test_the_trust_api_refuses_strangers_and_unknown_users(moderator_client, user_client, user):
    assert_problem(moderator_client.post(trust_url("nobody-here")), 404)
    assert_problem(user_client.post(trust_url(user.username)), 403)
    assert_problem(APIClient().delete(trust_url(user.username)), 401)


def test_a_spam_rejection_withdraws_a_granted_trust(moderator, moderator_client):
    from moderation.services import location_reject

    user = UserFactory()
    moderator_client.post(trust_url(user.username))
    place_id = submit(client_for(user)).json()["id"]
    assert user_is_trusted(User.objects.get(pk=user.pk))

    location_reject(
        location_id=place_id, moderator=moderator, reason_code="spam", reason="An advert."
    )

    user.refresh_from_db()
    assert user.trust_override == "auto"
    assert not user_is_trusted(user)
    assert submit(client_for(user)).json()["properties"]["status"] == "pending"


# --- spam ----------------------------------------------------------------------------------


@override_settings(SPAM_REJECT_SCORE=10)
def test_a_spammy_submission_is_rejected_as_spam_but_answered_201(user, user_client):
    response = submit(user_client, SPAMMY)

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["properties"]["status"] == "rejected"
    place = Location.objects.get(pk=body["id"])
    fired = {signal["name"] for signal in place.spam_signals}
    assert {"link", "phone", "shouting", "repeated_characters"} <= fired
    assert place.spam_score == sum(signal["weight"] for signal in place.spam_signals) >= 10
    log = ModerationLog.objects.get(location_ref=place.id)
    assert (log.moderator, log.to_status, log.reason_code) == (None, "rejected", "spam")
    told = Notification.objects.get(recipient=user, event="location.auto_rejected")
    assert "spam" not in str(told.payload).lower()
    assert APIClient().get(f"{API}/locations/{place.id}").status_code == 404


@override_settings(SPAM_REJECT_SCORE=10)
def test_a_moderator_reverses_an_automatic_spam_rejection(user, user_client, moderator_client):
    photo = ImageFactory(uploader=user, location=None)
    place_id = submit(user_client, {**SPAMMY, "image_ids": [str(photo.id)]}).json()["id"]

    response = moderator_client.patch(
        f"{API}/admin/locations/{place_id}/status", {"status": "approved"}, format="json"
    )

    assert response.status_code == 200, response.content
    assert response.json()["status"] == "approved"
    assert Image.objects.get(pk=photo.pk).moderation_status == "approved"
    assert APIClient().get(f"{API}/locations/{place_id}").status_code == 200


# Link, phone, shouting, repeated characters: 9 (an old account is not new).
@override_settings(SPAM_REJECT_SCORE=9, TRUST_AUTO_APPROVE_AFTER=1)
def test_trust_skips_review_but_not_the_spam_check():
    user = seasoned_user(1)

    assert submit(client_for(user), SPAMMY).json()["properties"]["status"] == "rejected"


def test_a_threshold_above_the_highest_score_turns_automatic_rejection_off(user_client):
    with override_settings(SPAM_REJECT_SCORE=spam_max_score() + 1):
        body = submit(user_client, SPAMMY).json()

    assert body["properties"]["status"] == "pending"
    assert Location.objects.get(pk=body["id"]).spam_score > 0


@override_settings(SPAM_BLOCKED_WORDS=["casino"], SPAM_REJECT_SCORE=100)
def test_blocked_words_and_invisible_characters_are_signals(user_client):
    body = {**PLACE, "name": "Garden\u200b casino", "description": "Nice."}

    place = Location.objects.get(pk=submit(user_client, body).json()["id"])

    fired = {signal["name"]: signal for signal in place.spam_signals}
    assert fired["blocked_word"]["detail"] == "casino"
    assert fired["blocked_word"]["weight"] == WEIGHTS["blocked_word"]
    assert "invisible_characters" in fired
    assert "new_account" in fired  # the factory's account was made just now


@override_settings(SPAM_REJECT_SCORE=100)
def test_identical_text_across_places_and_the_submission_rate_are_signals(user_client):
    text = "Best place in town, come and see us every day of the week"
    for n in range(6):
        submit(user_client, {**PLACE, "name": f"Garden {n}", "description": text})

    place = Location.objects.filter(description=text).order_by("-created_at").first()

    fired = {signal["name"] for signal in place.spam_signals}
    assert {"identical_text", "submission_rate"} <= fired


@override_settings(SPAM_REJECT_SCORE=10)
def test_an_owners_spammy_edit_of_a_public_place_is_discarded_as_spam(user, user_client):
    public = LocationFactory(submitter=user, approved=True, name="Quiet garden")

    response = user_client.patch(
        f"{API}/locations/{public.id}",
        {"name": SPAMMY["name"], "description": SPAMMY["description"]},
        format="json",
    )

    assert response.status_code == 200, response.content
    public.refresh_from_db()
    assert (public.status, public.name) == ("approved", "Quiet garden")
    revision = public.revisions.get(status="rejected")
    assert revision.reason_code == "spam"
    log = ModerationLog.objects.get(location_ref=public.id)
    assert (log.action, log.moderator, log.reason_code) == ("revision_rejected", None, "spam")


@override_settings(SPAM_REJECT_SCORE=100)
def test_the_queue_shows_and_orders_by_spam_score(user_client, moderator_client):
    calm = submit(user_client, PLACE).json()["id"]
    loud = submit(user_client, SPAMMY).json()["id"]
    queue = f"{API}/admin/locations"

    by_score = moderator_client.get(queue, {"ordering": "-spam_score"}).json()["results"]

    assert [item["id"] for item in by_score][:2] == [loud, calm]
    assert by_score[0]["spam_score"] > by_score[1]["spam_score"]
    assert {"name", "weight", "detail"} == set(by_score[0]["spam_signals"][0])
    ascending = moderator_client.get(queue, {"ordering": "spam_score"}).json()["results"]
    assert [item["id"] for item in ascending][:2] == [calm, loud]
    assert_problem(moderator_client.get(queue, {"ordering": "name"}), 400, field="ordering")
    assert_problem(moderator_client.get(queue, {"ordering": ""}), 400, field="ordering")


def test_the_console_grants_and_withdraws_trust(staff_moderator_browser):
    user = UserFactory()
    changelist = "/admin/accounts/user/"

    staff_moderator_browser.post(
        changelist, {"action": "trust_selected", "_selected_action": [str(user.pk)]}
    )
    user.refresh_from_db()
    assert user.trust_override == "granted"
    assert user_is_trusted(user)

    staff_moderator_browser.post(
        changelist, {"action": "withdraw_trust_selected", "_selected_action": [str(user.pk)]}
    )
    user.refresh_from_db()
    assert user.trust_override == "withdrawn"
    assert not user_is_trusted(user)
