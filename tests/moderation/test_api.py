"""GET /admin/locations, PATCH /admin/locations/{id}/status, GET /admin/locations/{id}/log."""

import uuid

import pytest
from django.urls import reverse
from rest_framework.test import APIClient

from moderation.models import ModerationLog
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

QUEUE = reverse("v1:moderation-queue")
REJECTION = {"status": "rejected", "reason_code": "spam", "reason": "An advert for a shop."}


def status_url(location_id) -> str:
    return reverse("v1:moderation-location-status", kwargs={"id": location_id})


def log_url(location_id) -> str:
    return reverse("v1:moderation-location-log", kwargs={"id": location_id})


def client_for(user) -> APIClient:
    client = APIClient()
    if user is not None:
        client.force_authenticate(user)
    return client


# --- permissions ------------------------------------------------------------------


@pytest.fixture(params=["anonymous", "user", "group moderator", "staff", "superuser"])
def who(request, db):
    return request.param


def caller(who):
    return {
        "anonymous": None,
        "user": UserFactory(),
        "group moderator": None,
        "staff": UserFactory(is_staff=True),
        "superuser": UserFactory(is_staff=True, is_superuser=True),
    }[who]


@pytest.fixture
def requester(who, moderator):
    return moderator if who == "group moderator" else caller(who)


EXPECTED = {"anonymous": 401, "user": 403, "group moderator": 200, "staff": 200, "superuser": 200}


def test_permission_matrix_of_the_queue(who, requester):
    response = client_for(requester).get(QUEUE)
    assert response.status_code == EXPECTED[who]
    if response.status_code >= 400:
        assert response["Content-Type"] == "application/problem+json"


def test_permission_matrix_of_a_decision(who, requester, pending_location):
    response = client_for(requester).patch(status_url(pending_location.id), {"status": "approved"})
    assert response.status_code == EXPECTED[who]
    pending_location.refresh_from_db()
    assert pending_location.status == ("approved" if EXPECTED[who] == 200 else "pending")
    assert ModerationLog.objects.count() == (1 if EXPECTED[who] == 200 else 0)


def test_permission_matrix_of_the_log(who, requester, approved_location):
    response = client_for(requester).get(log_url(approved_location.id))
    assert response.status_code == EXPECTED[who]


def test_an_anonymous_caller_is_told_how_to_authenticate(api_client):
    response = api_client.get(QUEUE)
    assert response.status_code == 401
    assert response["WWW-Authenticate"].startswith("Token")


# --- the queue ----------------------------------------------------------------------


def test_the_queue_lists_pending_places_oldest_first_with_a_count(moderator_client):
    first = LocationFactory()
    second = LocationFactory()
    LocationFactory(approved=True)
    LocationFactory(status="rejected")

    response = moderator_client.get(QUEUE)

    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(first.id), str(second.id)]
    assert {item["status"] for item in body["results"]} == {"pending"}


def test_the_queue_shows_each_places_submitter_and_thumbnails(moderator_client, submitter):
    location = LocationFactory(submitter=submitter)
    image = ImageFactory(location=location, uploader=submitter)
    ImageFactory(location=location, status="processing")  # no thumbnail yet: not shown

    item = moderator_client.get(QUEUE).json()["results"][0]

    assert item["submitter"] == submitter.username
    assert item["point"] == {"type": "Point", "coordinates": [13.405, 52.52]}
    assert [i["id"] for i in item["images"]] == [str(image.id)]
    assert f"images/{image.id}/thumb-256.webp" in item["images"][0]["thumbnail_url"]
    assert f"images/{image.id}/original.jpg" in item["images"][0]["url"]


def test_a_place_of_an_erased_submitter_is_listed_without_one(moderator_client):
    LocationFactory(submitter=None)
    assert moderator_client.get(QUEUE).json()["results"][0]["submitter"] is None


@pytest.mark.parametrize("status", ["approved", "rejected"])
def test_the_queue_filters_by_status(moderator_client, status):
    LocationFactory()
    wanted = (
        LocationFactory(approved=True) if status == "approved" else LocationFactory(status=status)
    )
    body = moderator_client.get(QUEUE, {"status": status}).json()
    assert [item["id"] for item in body["results"]] == [str(wanted.id)]


def test_an_unknown_status_filter_is_a_400_naming_the_field(moderator_client):
    response = moderator_client.get(QUEUE, {"status": "deleted"})
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["status"]


def test_the_queue_is_paginated(moderator_client):
    places = [LocationFactory() for _ in range(5)]
    body = moderator_client.get(QUEUE, {"limit": 2, "offset": 2}).json()
    assert body["count"] == 5
    assert [item["id"] for item in body["results"]] == [str(p.id) for p in places[2:4]]
    assert body["next"] is not None and body["previous"] is not None


def test_the_queue_of_fifty_places_with_photos_runs_a_bounded_number_of_queries(
    moderator_client, django_assert_max_num_queries
):
    for _ in range(50):
        location = LocationFactory()
        ImageFactory.create_batch(2, location=location, uploader=location.submitter)

    # Group check, count, page (with submitters), one prefetch of every photo, one of the
    # pending revisions, one statement of every likely duplicate: the same 6 for one
    # place or fifty.
    with django_assert_max_num_queries(6):
        response = moderator_client.get(QUEUE)

    body = response.json()
    assert len(body["results"]) == 50
    assert all(len(item["images"]) == 2 for item in body["results"])


# --- decisions ----------------------------------------------------------------------


def test_a_moderator_approves_a_pending_place(moderator_client, moderator, pending_location):
    response = moderator_client.patch(status_url(pending_location.id), {"status": "approved"})

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "approved"
    assert body["approved_at"] is not None
    log = ModerationLog.objects.get()
    assert (log.moderator, log.from_status, log.to_status) == (moderator, "pending", "approved")
    assert Notification.objects.get().event == "location.approved"


def test_a_moderator_rejects_a_pending_place_with_a_reason(moderator_client, pending_location):
    response = moderator_client.patch(status_url(pending_location.id), REJECTION)

    assert response.status_code == 200
    assert response.json()["status"] == "rejected"
    assert response.json()["approved_at"] is None
    log = ModerationLog.objects.get()
    assert (log.reason_code, log.reason) == ("spam", "An advert for a shop.")


def test_a_moderator_takes_an_approved_place_down(moderator_client, approved_location):
    response = moderator_client.patch(status_url(approved_location.id), REJECTION)
    assert response.status_code == 200
    approved_location.refresh_from_db()
    assert approved_location.status == "rejected"
    assert approved_location.approved_at is None


def test_a_moderator_re_approves_a_rejected_place(moderator_client, rejected_location):
    response = moderator_client.patch(status_url(rejected_location.id), {"status": "approved"})
    assert response.status_code == 200
    assert response.json()["status"] == "approved"


@pytest.mark.parametrize(
    ("fixture", "payload"),
    [
        ("approved_location", {"status": "approved"}),
        ("rejected_location", REJECTION),
    ],
)
def test_an_illegal_transition_is_a_409(moderator_client, request, fixture, payload):
    location = request.getfixturevalue(fixture)
    before = location.status

    response = moderator_client.patch(status_url(location.id), payload)

    assert response.status_code == 409
    assert response["Content-Type"] == "application/problem+json"
    assert f"A {before} place cannot be" in response.json()["detail"]
    location.refresh_from_db()
    assert location.status == before
    assert not ModerationLog.objects.exists()


@pytest.mark.parametrize("fixture", ["pending_location", "approved_location"])
@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"status": "rejected"}, "reason_code"),
        ({"status": "rejected", "reason_code": "spam"}, "reason"),
        ({"status": "rejected", "reason_code": "spam", "reason": ""}, "reason"),
        ({"status": "rejected", "reason": "It is spam."}, "reason_code"),
        ({"status": "rejected", "reason_code": "ugly", "reason": "Meh."}, "reason_code"),
        ({"status": "rejected", "reason_code": "spam", "reason": "x" * 2001}, "reason"),
        ({"status": "pending"}, "status"),
        ({}, "status"),
    ],
)
def test_an_incomplete_decision_is_a_400_naming_the_field(
    moderator_client, request, fixture, payload, field
):
    location = request.getfixturevalue(fixture)
    response = moderator_client.patch(status_url(location.id), payload)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert field in response.json()["errors"]
    assert not ModerationLog.objects.exists()


def test_a_decision_on_a_place_that_moved_on_since_the_moderator_looked_is_a_409(
    moderator_client, approved_location
):
    response = moderator_client.patch(
        status_url(approved_location.id), {**REJECTION, "expected_status": "pending"}
    )
    assert response.status_code == 409
    assert "someone else decided" in response.json()["detail"]


def test_a_decision_on_an_unknown_place_is_a_404(moderator_client):
    response = moderator_client.patch(status_url(uuid.uuid4()), {"status": "approved"})
    assert response.status_code == 404


# --- the log ------------------------------------------------------------------------


def test_the_log_lists_every_decision_on_a_place_oldest_first(
    moderator_client, moderator, pending_location
):
    moderator_client.patch(status_url(pending_location.id), {"status": "approved"})
    moderator_client.patch(status_url(pending_location.id), REJECTION)

    body = moderator_client.get(log_url(pending_location.id)).json()

    assert body["count"] == 2
    first, second = body["results"]
    assert (first["from_status"], first["to_status"]) == ("pending", "approved")
    assert (second["from_status"], second["to_status"]) == ("approved", "rejected")
    assert second["reason_code"] == "spam"
    assert second["reason_label"] == "Spam"
    assert second["reason"] == "An advert for a shop."
    assert second["moderator"] == moderator.username
    assert second["location_id"] == str(pending_location.id)


def test_the_log_outlives_its_place(moderator_client, pending_location):
    moderator_client.patch(status_url(pending_location.id), REJECTION)
    location_id = pending_location.id
    pending_location.delete()

    response = moderator_client.get(log_url(location_id))

    assert response.status_code == 200
    assert [e["to_status"] for e in response.json()["results"]] == ["rejected"]


def test_the_log_of_a_place_never_decided_on_is_empty(moderator_client, pending_location):
    body = moderator_client.get(log_url(pending_location.id)).json()
    assert (body["count"], body["results"]) == (0, [])


def test_the_log_of_an_unknown_place_is_a_404(moderator_client):
    assert moderator_client.get(log_url(uuid.uuid4())).status_code == 404
