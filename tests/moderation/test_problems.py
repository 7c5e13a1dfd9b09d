"""The moderation API's refusals come from the services' ApplicationErrors through the
one problem handler, with the status codes and details the API always had."""

import uuid

from django.urls import reverse

from moderation import services
from tests.locations.factories import LocationFactory


def status_url(location_id) -> str:
    return reverse("v1:moderation-location-status", kwargs={"id": location_id})


def test_it_answers_a_decision_on_an_unknown_place_with_no_such_place(moderator_client):
    response = moderator_client.patch(status_url(uuid.uuid4()), {"status": "approved"})

    assert response.status_code == 404
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["detail"] == "No such place."
    assert body["type"] == "https://placemap.dev/problems/not-found"


def test_it_answers_the_log_of_an_unknown_place_with_no_such_place(moderator_client):
    url = reverse("v1:moderation-location-log", kwargs={"id": uuid.uuid4()})
    response = moderator_client.get(url)

    assert response.status_code == 404
    assert response.json()["detail"] == "No such place."


def test_it_answers_an_illegal_transition_with_a_409_conflict(moderator_client):
    place = LocationFactory(approved=True)

    response = moderator_client.patch(status_url(place.id), {"status": "approved"})

    assert response.status_code == 409
    body = response.json()
    assert body["type"] == "https://placemap.dev/problems/conflict"
    assert body["detail"] == "A approved place cannot be approved."


def test_an_unknown_place_is_both_a_not_found_error_and_the_model_s_does_not_exist(moderator):
    from django.core.exceptions import ObjectDoesNotExist

    from config.errors import NotFoundError

    try:
        services.location_approve(location_id=uuid.uuid4(), moderator=moderator)
    except services.PlaceNotFound as exc:
        assert isinstance(exc, NotFoundError)
        assert isinstance(exc, ObjectDoesNotExist)
        assert exc.detail == "No such place."
    else:
        raise AssertionError("no error for an unknown place")
