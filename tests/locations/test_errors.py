"""The places API's refusals come from locations.errors through the one problem handler
and read as they always have: status, problem type, detail and Retry-After.

Needs the problem handler that maps config.errors.ApplicationError and Django's
ValidationError (P1b's config/exceptions.py)."""

import pytest

from tests.locations.conftest import API
from tests.locations.test_fallback import locations_table_locked

pytestmark = pytest.mark.django_db


def test_it_refuses_an_unknown_place_as_404_no_such_place(api_client):
    response = api_client.get(f"{API}/locations/00000000-0000-4000-8000-000000000000")

    assert response.status_code == 404
    body = response.json()
    assert (body["type"], body["detail"]) == (
        "https://placemap.dev/problems/not-found",
        "No such place.",
    )


def test_it_refuses_to_change_someone_elses_place_with_403(other_client, user, place_of):
    place = place_of(user)

    response = other_client.patch(f"{API}/locations/{place.id}", {"name": "Mine now"})

    assert response.status_code == 403
    body = response.json()
    assert body["type"] == "https://placemap.dev/problems/permission-denied"
    assert body["detail"] == "Only the submitter or a moderator may change this place."


# Committed rows: the blocking session must see the table to lock it (test_fallback).
@pytest.mark.django_db(transaction=True)
def test_a_timed_out_detail_read_keeps_the_maps_detail_and_retry_after(
    api_client, user, place_of, settings
):
    place = place_of(user)
    settings.PLACES_STATEMENT_TIMEOUT_MS = 200
    settings.PLACES_RETRY_AFTER_SECONDS = 7

    with locations_table_locked():
        response = api_client.get(f"{API}/locations/{place.id}")

    assert response.status_code == 503
    assert response["Retry-After"] == "7"
    body = response.json()
    assert body["type"] == "https://placemap.dev/problems/service-unavailable"
    assert body["detail"] == "The map database is busy or unavailable; retry shortly."
