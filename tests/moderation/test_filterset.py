"""GET /api/v1/admin/locations filtered by moderation.api.filtersets.ModerationQueueFilterSet:
the same answers, problems and details as before the FilterSet (config.params rules)."""

import pytest
from django.http import QueryDict
from django.urls import reverse

from moderation.api.filtersets import ModerationQueueFilterSet
from moderation.selectors import moderation_queue
from tests.locations.factories import LocationFactory

QUEUE = reverse("v1:moderation-queue")


def _problem(response, status: int) -> dict:
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    return response.json()


def test_it_refuses_an_empty_status_naming_the_parameter(moderator_client):
    body = _problem(moderator_client.get(f"{QUEUE}?status="), 400)
    assert body["type"] == "https://placemap.dev/problems/validation-error"
    assert body["errors"] == {"status": ["This parameter may not be empty."]}
    assert body["detail"] == "status: This parameter may not be empty."


def test_it_refuses_an_unknown_status_in_the_api_s_words(moderator_client):
    body = _problem(moderator_client.get(QUEUE, {"status": "deleted"}), 400)
    assert body["errors"] == {"status": ['"deleted" is not a valid choice.']}
    assert body["detail"] == 'status: "deleted" is not a valid choice.'


def test_it_refuses_a_bad_status_before_a_bad_page(moderator_client):
    body = _problem(moderator_client.get(QUEUE, {"status": "", "limit": "0"}), 400)
    assert list(body["errors"]) == ["status"]


@pytest.mark.django_db
def test_the_queue_is_pending_when_no_status_is_asked_for():
    pending = LocationFactory()
    LocationFactory(approved=True)

    filterset = ModerationQueueFilterSet(data=QueryDict(""), queryset=moderation_queue())

    assert filterset.is_valid()
    assert list(filterset.qs) == [pending]


@pytest.mark.django_db
def test_the_filterset_lists_the_status_asked_for_oldest_first():
    LocationFactory()
    first, second = LocationFactory(approved=True), LocationFactory(approved=True)

    filterset = ModerationQueueFilterSet(
        data=QueryDict("status=approved"), queryset=moderation_queue()
    )

    assert [place.id for place in filterset.qs] == [first.id, second.id]


def test_the_schema_documents_the_status_values(moderator_client):
    schema = moderator_client.get("/api/v1/schema", HTTP_ACCEPT="application/json").json()
    parameters = schema["paths"]["/api/v1/admin/locations"]["get"]["parameters"]
    status = next(p for p in parameters if p["name"] == "status")
    assert status["in"] == "query"
    assert set(status["schema"]["enum"]) == {"pending", "approved", "rejected", "hidden", "merged"}
    assert status["schema"]["default"] == "pending"
