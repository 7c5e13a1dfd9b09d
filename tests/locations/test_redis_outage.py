"""Redis down (cache, throttle counters, idempotency store): reads keep working from
Postgres, and an Idempotency-Key that cannot be honoured is a 503, not a duplicate."""

import hashlib

import pytest
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings

from locations.api import idempotency
from locations.models import Location
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


def test_an_idempotency_key_that_cannot_be_stored_is_503_and_writes_nothing(user_client):
    with override_settings(CACHES=REDIS_DOWN):
        response = user_client.post(
            f"{API}/locations", VALID, format="json", headers={"Idempotency-Key": "k1"}
        )

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) >= 1
    assert Location.objects.count() == 0


def test_a_retry_while_the_first_request_is_still_running_is_409(user_client, user):
    digest = hashlib.sha256(b"k2").hexdigest()
    cache.add(
        f"places:idempotency:location-create:{user.pk}:{digest}",
        {"fingerprint": idempotency._fingerprint(VALID), "state": "running"},
        timeout=60,
    )

    response = user_client.post(
        f"{API}/locations", VALID, format="json", headers={"Idempotency-Key": "k2"}
    )

    assert response.status_code == 409
    assert response["Retry-After"] == "1"
    assert Location.objects.count() == 0
