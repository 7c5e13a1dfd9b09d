"""Redis by role (docs/scaling.md): the cache, the channel layer, the throttles and the
broker each reach the Redis their setting names, and fall back to REDIS_URL. A Placemap
process (a fresh interpreter: the settings as base.py reads them) on a throwaway
redis-server of the test's own, one database per role, uses every role once; the test
then reads what landed in each database."""

import json
import subprocess
from collections.abc import Iterator

import pytest
import redis
from django.core.cache import cache

from config import breakers, health
from tests.support import free_port, port_is_open, run_python, stop_process, wait_for

pytestmark = pytest.mark.django_db

PREFIX = "placemap-test-roles"

# Every Redis use of a process, once each: an anonymous search (its throttle counter and
# its fallback copy), a worker heartbeat, the storage breaker's shared state, a member of
# the live feed's group, a task sent to the broker; then /ready's Redis checks.
USE_EVERY_ROLE = """
import json
import django
django.setup()
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.test import Client
from config.celery import app
from jobs.services import worker_heartbeat_record
from locations import feed
from media_store import storage

search = Client().get("/api/v1/locations/search?lat=52.5&lon=13.4")
assert search.status_code == 200, search.content
worker_heartbeat_record(hostname="roles@test")
storage.breaker_state()
async_to_sync(get_channel_layer().group_add)(feed.MAP_GROUP, "roles-listener")
app.send_task("jobs.tasks.relay_outbox")
ready = Client().get("/ready").json()["checks"]
print(json.dumps({name: check for name, check in ready.items() if name.startswith("redis")}))
"""


@pytest.fixture
def redis_server() -> Iterator[int]:
    """A redis-server of this test's own on a free port (its port): nothing else writes
    to its databases."""
    port = free_port()
    process = subprocess.Popen(
        [
            *("redis-server", "--port", str(port), "--bind", "127.0.0.1"),
            *("--save", "", "--appendonly", "no"),
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(lambda: port_is_open(port), timeout=10, what="the throwaway redis-server")
        yield port
    finally:
        stop_process(process)


def keys_by_db(port: int) -> dict[int, set[str]]:
    found = {}
    for db in range(16):
        client = redis.Redis(port=port, db=db)
        keys = {key.decode() for key in client.scan_iter(count=1000)}
        client.close()
        if keys:
            found[db] = keys
    return found


def kind(key: str) -> str:
    """Which use wrote `key` (names as the cache, channels_redis and kombu make them)."""
    if key.startswith(f"{PREFIX}-storage:pybreaker:"):
        return "storage breaker"
    if ":places:answer:" in key:
        return "fallback copy"
    if ":jobs:worker-heartbeat" in key:
        return "worker heartbeat"
    if ":throttle:" in key:
        return "throttle counter"
    if key.startswith(f"{PREFIX}:group:") or key.startswith(f"{PREFIX}:groups"):
        return "live feed group"
    if key == f"{PREFIX}:celery" or key.startswith(f"{PREFIX}:_kombu.binding"):
        return "task queue"
    return f"unknown {key}"


def kinds_by_db(port: int) -> dict[int, set[str]]:
    return {db: {kind(key) for key in keys} for db, keys in keys_by_db(port).items()}


def test_each_role_lands_in_the_redis_its_setting_names(redis_server):
    url = f"redis://127.0.0.1:{redis_server}"
    out = run_python(
        USE_EVERY_ROLE,
        TEST_REDIS_URL=f"{url}/0",  # REDIS_URL: no role uses it here
        TEST_CACHE_REDIS_URL=f"{url}/1",
        TEST_THROTTLE_REDIS_URL=f"{url}/2",
        TEST_CHANNEL_LAYER_REDIS_URL=f"{url}/3",
        TEST_CELERY_BROKER_URL=f"{url}/4",
        TEST_KEY_PREFIX=PREFIX,
    )

    assert kinds_by_db(redis_server) == {
        1: {"fallback copy", "worker heartbeat", "storage breaker"},
        2: {"throttle counter"},
        3: {"live feed group"},
        4: {"task queue"},
    }
    ready = json.loads(out.splitlines()[-1])  # after the request logs
    assert ready == {
        f"redis:{role}": {
            "status": "ok",
            "roles": [role],
            "latency_ms": ready[f"redis:{role}"]["latency_ms"],
        }
        for role in ("cache", "channel_layer", "throttle", "broker")
    }


def test_every_role_falls_back_to_redis_url(redis_server):
    out = run_python(
        USE_EVERY_ROLE, TEST_REDIS_URL=f"redis://127.0.0.1:{redis_server}/5", TEST_KEY_PREFIX=PREFIX
    )

    assert kinds_by_db(redis_server) == {
        5: {
            "fallback copy",
            "worker heartbeat",
            "storage breaker",
            "throttle counter",
            "live feed group",
            "task queue",
        }
    }
    ready = json.loads(out.splitlines()[-1])  # after the request logs
    assert list(ready) == ["redis"]
    assert ready["redis"]["status"] == "ok"
    assert ready["redis"]["roles"] == ["cache", "channel_layer", "throttle", "broker"]


def test_ready_checks_each_distinct_redis_once_naming_its_roles(client, settings, redis_server):
    up = f"redis://127.0.0.1:{redis_server}/0"
    down = f"redis://127.0.0.1:{free_port()}/0"
    settings.CACHE_REDIS_URL = settings.THROTTLE_REDIS_URL = up
    settings.CHANNEL_LAYER_REDIS_URL = settings.CELERY_BROKER_URL = down

    assert list(health.redis_checks()) == ["redis:cache+throttle", "redis:channel_layer+broker"]
    response = client.get("/ready")

    assert response.status_code == 503
    checks = response.json()["checks"]
    assert checks["redis:cache+throttle"]["status"] == "ok"
    assert checks["redis:cache+throttle"]["roles"] == ["cache", "throttle"]
    assert checks["redis:channel_layer+broker"]["status"] == "error"
    assert "redis" not in checks


def test_a_dead_throttles_redis_opens_its_own_breaker_and_leaves_the_cache_alone(
    settings, api_client
):
    settings.THROTTLE_REDIS_URL = f"redis://127.0.0.1:{free_port()}/0"

    for _ in range(settings.BREAKER_FAIL_MAX + 1):
        response = api_client.get("/api/v1/locations/search?lat=52.5&lon=13.4")
        assert response.status_code == 200  # the throttle fails open

    assert breakers.redis_breaker("throttle").current_state == "open"
    assert breakers.redis_breaker("throttle").name == "redis:throttle"
    assert breakers.redis_breaker("cache").current_state == "closed"
    cache.set("roles:probe", 1)
    assert cache.get("roles:probe") == 1
