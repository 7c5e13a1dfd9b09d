"""/ready's storage check reports the storage's own reachability: a slow or dead Redis
(where the shared breaker state lives) is the redis check's to report."""

import time

import pytest

from media_store import storage
from tests.config.test_faults_redis import ThrowawayRedis

pytestmark = pytest.mark.django_db


@pytest.fixture
def breaker_redis(settings):
    """A throwaway Redis holding the storage breaker, built (as in a running process)
    while Redis answered; the test pauses it."""
    server = ThrowawayRedis()
    settings.CACHE_REDIS_URL = f"redis://127.0.0.1:{server.port}/0"
    storage.breaker_state()
    yield server
    server.stop()


@pytest.fixture
def paused_redis(breaker_redis):
    breaker_redis.pause()
    return breaker_redis


def test_ready_does_not_blame_storage_while_redis_is_paused(client, breaker_redis):
    # Open: the old probe read state, failure count and opening time, one Redis
    # timeout each (1.5 s of READY_CHECK_TIMEOUT's 2 s), then said "closed".
    storage.breaker().open()
    breaker_redis.pause()

    body = client.get("/ready").json()

    assert body["checks"]["redis:cache"]["status"] == "error"
    check = body["checks"]["storage"]
    assert check["status"] == "ok", check
    # Not a made-up "closed": Redis could not say.
    assert check["breaker"] == {"state": "unknown", "failures": None}
    # One bounded Redis round trip (STORAGE_BREAKER_REDIS_TIMEOUT, 0.5 s), no retries.
    assert check["latency_ms"] < 1000


def test_the_storage_probe_answers_within_one_breaker_redis_timeout(paused_redis, settings):
    started = time.perf_counter()
    result = storage.storage_health()
    elapsed = time.perf_counter() - started

    assert result["bucket"] == settings.AWS_STORAGE_BUCKET_NAME
    assert result["breaker"]["state"] == "unknown"
    assert elapsed < settings.STORAGE_BREAKER_REDIS_TIMEOUT + 1.0


def test_ready_still_names_storage_and_its_open_breaker_when_storage_is_down(client, settings):
    storage.breaker().open()
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there

    check = client.get("/ready").json()["checks"]["storage"]

    assert check["status"] == "error"
    assert "breaker open" in check["error"]


def test_the_probe_reports_the_shared_breaker_state(client):
    storage.breaker().open()

    check = client.get("/ready").json()["checks"]["storage"]

    assert check["status"] == "ok"
    assert check["breaker"]["state"] == "open"
    assert check["breaker"]["retry_after"] >= 1
