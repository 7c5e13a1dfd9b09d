"""Idempotency-Keys are rows in PostgreSQL written with the place (issue 11, found by the
fault drills): a crash of Redis, which used to hold them, no longer lets a retry create
the place twice."""

import hashlib
import threading
from datetime import timedelta

import pytest
from django.conf import settings
from django.db import connection
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from locations.api import idempotency
from locations.models import IdempotencyKey, Location
from locations.tasks import purge_idempotency_keys
from tests.config.test_faults_redis import ThrowawayRedis
from tests.locations.test_create_api import VALID, post
from tests.support import other_session

pytestmark = pytest.mark.django_db(transaction=True)

# Nothing listens on port 1: every Redis call fails at once.
REDIS_DOWN = {"default": {**settings.CACHES["default"], "LOCATION": "redis://127.0.0.1:1/0"}}


def test_a_retry_after_redis_restarted_empty_replays_the_first_201(user_client):
    first_redis = ThrowawayRedis()
    try:
        with override_settings(CACHES=first_redis.caches()):
            first = post(user_client, VALID, **{"Idempotency-Key": "crash-1"})
    finally:
        first_redis.stop()  # a crash: whatever it held is gone
    empty_redis = ThrowawayRedis()
    try:
        with override_settings(CACHES=empty_redis.caches()):
            again = post(user_client, VALID, **{"Idempotency-Key": "crash-1"})
    finally:
        empty_redis.stop()

    assert first.status_code == 201, first.content
    assert again.status_code == 201, again.content
    assert again["Idempotent-Replayed"] == "true"
    assert again.json() == first.json()
    assert Location.objects.count() == 1


def test_an_idempotency_key_is_honoured_while_redis_is_down(user_client):
    with override_settings(CACHES=REDIS_DOWN):
        first = post(user_client, VALID, **{"Idempotency-Key": "k1"})
        again = post(user_client, VALID, **{"Idempotency-Key": "k1"})
        other_body = post(user_client, {**VALID, "name": "Else"}, **{"Idempotency-Key": "k1"})

    assert first.status_code == 201, first.content
    assert (again.status_code, again["Idempotent-Replayed"]) == (201, "true")
    assert again.json() == first.json()
    assert other_body.status_code == 422
    assert other_body["Content-Type"] == "application/problem+json"
    assert Location.objects.count() == 1


def test_two_simultaneous_posts_with_one_key_create_one_place_without_redis(user):
    start = threading.Barrier(2)
    responses = []

    def send() -> None:
        client = APIClient()
        client.force_authenticate(user)
        try:
            start.wait()
            responses.append(post(client, VALID, **{"Idempotency-Key": "race"}))
        finally:
            connection.close()

    with override_settings(CACHES=REDIS_DOWN):
        threads = [threading.Thread(target=send) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=30)

    codes = sorted(r.status_code for r in responses)
    # The loser either found the key locked (409, retry later) or, after, the replay.
    assert codes in ([201, 201], [201, 409]), [r.content for r in responses]
    assert Location.objects.count() == 1
    if codes == [201, 201]:
        assert {r.json()["id"] for r in responses} == {str(Location.objects.get().id)}


def _database_session():
    return other_session()


def test_a_retry_while_the_first_request_is_still_running_is_409(user_client, user):
    digest = hashlib.sha256(b"k2").hexdigest()
    lock_id = idempotency._lock_id(user_id=user.pk, scope="location-create", digest=digest)
    # Another request with this key, mid-transaction (it holds the key's lock).
    with _database_session() as other, other.transaction():
        other.execute("SELECT pg_advisory_xact_lock(%s)", [lock_id])
        during = post(user_client, VALID, **{"Idempotency-Key": "k2"})
    after = post(user_client, VALID, **{"Idempotency-Key": "k2"})

    assert during.status_code == 409
    assert during["Retry-After"] == "1"
    assert after.status_code == 201
    assert Location.objects.count() == 1


def _age_every_key() -> None:
    ago = timezone.now() - timedelta(seconds=settings.PLACES_IDEMPOTENCY_TTL_SECONDS + 1)
    IdempotencyKey.objects.update(created_at=ago)


def test_a_key_is_free_again_after_its_time_to_live(user_client):
    first = post(user_client, VALID, **{"Idempotency-Key": "old"})
    _age_every_key()
    later = post(user_client, {**VALID, "name": "Another"}, **{"Idempotency-Key": "old"})

    assert first.status_code == later.status_code == 201
    assert "Idempotent-Replayed" not in later
    assert Location.objects.count() == 2


def test_the_purge_deletes_only_expired_keys(user_client):
    post(user_client, VALID, **{"Idempotency-Key": "old"})
    _age_every_key()
    post(user_client, VALID, **{"Idempotency-Key": "new"})

    assert purge_idempotency_keys() == 1
    replay = post(user_client, VALID, **{"Idempotency-Key": "new"})
    assert replay["Idempotent-Replayed"] == "true"
    assert Location.objects.count() == 2
