"""The request path with Redis stopped or paused: a throwaway redis-server of the test's
own (never the shared one), stopped or SIGSTOPped, as the cache, throttle and
idempotency store."""

import os
import signal
import subprocess
import time

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from rest_framework.test import APIClient
from rest_framework.throttling import BaseThrottle

from config import breakers
from config.throttling import FailOpenThrottle
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.locations.conftest import API
from tests.locations.factories import LocationFactory
from tests.media_store import samples
from tests.support import free_port, port_is_open, stop_process, wait_for

pytestmark = pytest.mark.django_db

VIEWPORT = f"{API}/locations/viewport?bbox=13.0,52.3,13.8,52.7&limit=5"


class ThrowawayRedis:
    def __init__(self):
        self.port = free_port()
        self.process = subprocess.Popen(
            [
                *("redis-server", "--port", str(self.port), "--bind", "127.0.0.1"),
                *("--save", "", "--appendonly", "no"),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_is_open(self.port), timeout=10, what="redis-server")

    def caches(self, timeout: float = 2.0) -> dict:
        """CACHES pointing at this server, with Redis calls giving up after `timeout`."""
        return {
            "default": {
                **settings.CACHES["default"],
                "LOCATION": f"redis://127.0.0.1:{self.port}/0",
                "OPTIONS": {"socket_connect_timeout": timeout, "socket_timeout": timeout},
            }
        }

    def roles(self, timeout: float = 2.0) -> dict:
        """Settings putting the cache and the throttles' counters on this server (the
        roles a request uses), Redis calls giving up after `timeout`."""
        url = f"redis://127.0.0.1:{self.port}/0"
        return {
            "CACHES": self.caches(timeout),
            "CACHE_REDIS_URL": url,
            "THROTTLE_REDIS_URL": url,
            "REDIS_TIMEOUT": timeout,
        }

    def pause(self):
        os.kill(self.process.pid, signal.SIGSTOP)

    def resume(self):
        os.kill(self.process.pid, signal.SIGCONT)

    def stop(self):
        if self.process.poll() is None:
            self.resume()
        stop_process(self.process)


@pytest.fixture
def throwaway_redis():
    server = ThrowawayRedis()
    yield server
    server.stop()


def test_login_upload_and_export_are_not_500_while_redis_is_stopped(throwaway_redis):
    user = UserFactory(username="alice")
    LocationFactory(approved=True)
    throwaway_redis.stop()

    with override_settings(**throwaway_redis.roles()):
        login = APIClient().post(
            f"{API}/auth/token", {"username": "alice", "password": DEFAULT_PASSWORD}
        )
        assert login.status_code == 200, login.content
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {login.json()['token']}")
        upload = client.post(
            f"{API}/images/upload",
            {"file": SimpleUploadedFile("p.webp", samples.webp(), content_type="image/webp")},
            format="multipart",
        )
        export = client.get(f"{API}/locations/export")

    assert upload.status_code == 201, upload.content
    assert export.status_code == 200
    assert len(b"".join(export.streaming_content)) > 0
    assert user.images.count() == 1


def test_every_throttle_of_the_api_fails_open_the_same_way():
    def subclasses(cls):
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    ours = {
        cls
        for cls in subclasses(BaseThrottle)
        if not cls.__module__.startswith("rest_framework") and not cls.__name__.startswith("_")
    }
    assert len(ours) >= 6  # auth, gdpr, export, uploads, submissions, reads
    # Not only mixed in: FailOpenThrottle's allow_request is the one that runs first.
    assert all(cls.allow_request is FailOpenThrottle.allow_request for cls in ours), ours


def test_while_redis_is_paused_reads_stop_paying_its_timeout_once_the_breaker_opens(
    throwaway_redis, api_client, settings
):
    settings.BREAKER_FAIL_MAX = 2
    LocationFactory(approved=True)
    with override_settings(**throwaway_redis.roles(timeout=0.5)):
        assert api_client.get(VIEWPORT).status_code == 200
        throwaway_redis.pause()
        timings = []
        for _ in range(4):
            started = time.perf_counter()
            response = api_client.get(VIEWPORT)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200
        # One breaker for the Redis of the cache and the throttles (config/breakers.py).
        assert breakers.redis_breaker("throttle") is breakers.redis_breaker("cache")
        assert breakers.redis_breaker("cache").current_state == "open"
        throwaway_redis.resume()

    # The throttle and the fallback copy each wait 0.5 s for the paused Redis until two
    # failures open the breaker; after that the read does not wait for Redis at all.
    assert timings[0] >= 0.9, timings
    assert max(timings[2:]) < 0.3, timings


@pytest.mark.django_db(transaction=True)
def test_an_approval_does_not_wait_for_a_paused_redis_once_the_breaker_is_open(
    throwaway_redis, api_client, moderator_client, settings
):
    settings.BREAKER_FAIL_MAX = 2
    place = LocationFactory()  # pending
    redis_url = f"redis://127.0.0.1:{throwaway_redis.port}/0"
    layers = {
        "default": {
            **settings.CHANNEL_LAYERS["default"],
            "CONFIG": {**settings.CHANNEL_LAYERS["default"]["CONFIG"], "hosts": [redis_url]},
        }
    }
    with override_settings(
        **throwaway_redis.roles(timeout=0.5),
        CHANNEL_LAYERS=layers,
        CHANNEL_LAYER_REDIS_URL=redis_url,
    ):
        throwaway_redis.pause()
        api_client.get(VIEWPORT)  # two Redis timeouts: the breaker opens
        assert breakers.redis_breaker().current_state == "open"

        started = time.perf_counter()
        response = moderator_client.patch(
            f"{API}/admin/locations/{place.id}/status", {"status": "approved"}, format="json"
        )
        elapsed = time.perf_counter() - started
        throwaway_redis.resume()

    assert response.status_code == 200, response.content
    # The live feed send after the commit is skipped at once rather than waiting on Redis.
    assert elapsed < 1.0, elapsed
