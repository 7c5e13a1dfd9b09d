"""Redis down (cache, throttle counters, idempotency store): reads keep working from
Postgres, and a submission goes through (its Idempotency-Key is kept in PostgreSQL:
tests/locations/test_idempotency_durable.py)."""

import pytest
from django.conf import settings
from django.test import override_settings

from tests.locations.conftest import API
from tests.locations.test_create_api import VALID

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every Redis call fails at once with ConnectionError.
REDIS_DOWN = {
    "default": {
        **settings.CACHES["default"],
        "LOCATION": "redis://127.0.0.1:1/0",
    }
}


def test_search_and_viewport_still_answer_when_redis_is_down(api_client, user, place_of):
    place_of(user, lon=13.4, lat=52.52)

    with override_settings(CACHES=REDIS_DOWN):
        search = api_client.get(f"{API}/locations/search?lat=52.52&lon=13.4")
        viewport = api_client.get(f"{API}/locations/viewport?bbox=13,52,14,53")

    assert search.status_code == 200
    assert len(search.json()["features"]) == 1
    assert viewport.status_code == 200
    assert viewport.json()["total"] == 1


def test_a_submission_without_a_key_goes_through_when_redis_is_down(user_client):
    with override_settings(CACHES=REDIS_DOWN):
        response = user_client.post(f"{API}/locations", VALID, format="json")
    assert response.status_code == 201
