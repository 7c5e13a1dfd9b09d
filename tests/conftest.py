import subprocess
import sys
import urllib.request
from collections.abc import Callable, Iterator

import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from media_store.storage import ensure_bucket
from tests.accounts.factories import ModeratorFactory, UserFactory
from tests.support import (
    BASE_DIR,
    CeleryWorker,
    MapFeedListener,
    authenticated_client,
    child_env,
    free_port,
    stop_process,
    wait_for,
)

# Keys kombu's Redis transport keeps for the default queue and unacknowledged messages.
BROKER_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex")


@pytest.fixture(scope="session", autouse=True)
def s3_bucket():
    """The real S3 endpoint (moto server locally and in CI, MinIO in compose)."""
    ensure_bucket()


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and cached responses live in Redis: start every test clean.
    # Only our own prefix: a flush would also drop the broker's queues.
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    yield


@pytest.fixture(autouse=True)
def _closed_breakers():
    # The database and Redis breakers are per process: a test that took a dependency
    # away must not leave the next test failing fast.
    from config import breakers

    breakers.reset_all()
    yield
    breakers.reset_all()


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def moderator(db):
    return ModeratorFactory()


@pytest.fixture
def user_client(user) -> APIClient:
    return authenticated_client(user)


@pytest.fixture
def other_client(other_user) -> APIClient:
    return authenticated_client(other_user)


@pytest.fixture
def moderator_client(moderator) -> APIClient:
    return authenticated_client(moderator)


@pytest.fixture
def map_feed() -> Iterator[MapFeedListener]:
    """A listener on the live map feed's group, as a map client is."""
    listener = MapFeedListener()
    yield listener
    listener.close()


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The test broker (this run's own Redis database), its queue emptied before and
    after: messages left by earlier tests must not reach a worker started here."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(*BROKER_KEYS)
    yield client
    client.delete(*BROKER_KEYS)
    client.close()


@pytest.fixture
def celery_workers(transactional_db, tmp_path) -> Iterator[Callable[..., CeleryWorker]]:
    """Start real `celery worker` processes on this run's database, broker and bucket:
    celery_workers(hostname=..., env={...}, **CeleryWorker options), each logging to its
    own file under tmp_path. Every worker started is stopped at the end, before the
    tables are flushed (transactional_db: the workers see the rows a test commits)."""
    started: list[CeleryWorker] = []

    def start(*, env: dict[str, str] | None = None, **options) -> CeleryWorker:
        log_path = tmp_path / f"worker-{len(started)}.log"
        worker = CeleryWorker(log_path, child_env(**(env or {})), **options)
        started.append(worker)
        return worker.start()

    yield start
    for worker in started:
        worker.stop()


def _serves_health(port: int, process: subprocess.Popen) -> bool:
    if process.poll() is not None:
        raise AssertionError(f"uvicorn exited on port {port}: {process.stdout.read().decode()}")
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


# A real uvicorn process serving config.asgi on a free loopback port, on the pytest test
# database (the tests that use it need transactional_db so the server sees their rows).
@pytest.fixture
def asgi_server(transactional_db) -> Iterator[int]:
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--ws",
            "websockets",
            "--log-level",
            "warning",
        ],
        cwd=BASE_DIR,
        # The server must see the rows this test commits: child_env points it at the
        # test database.
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: _serves_health(port, process),
            timeout=30,
            what=f"uvicorn to serve /health on port {port}",
        )
        yield port
    finally:
        stop_process(process)
