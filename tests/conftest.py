import importlib
from collections.abc import Callable, Iterator

import botocore.auth
import botocore.compat
import pytest
import redis
from django.conf import settings
from rest_framework.test import APIClient

from media_store.storage import ensure_bucket
from tests.accounts.factories import ModeratorFactory, UserFactory
from tests.support import (
    CeleryWorker,
    MapFeedListener,
    WebServer,
    authenticated_client,
    broker_key,
    child_env,
    compile_messages,
)

# Keys kombu's Redis transport keeps for the default queue and unacknowledged messages.
BROKER_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex")


# Suites that build one stack of their own for all the tests of a file (a package
# fixture) and run for minutes: `--dist loadfile` keeps each file on one xdist worker, and
# they go first so the rest of the suite fills the other workers around them. (Not
# xdist_group: pytest-xdist 3.8's loadgroup renames node ids in a way pytest 9 ignores.)
OWN_STACK_SUITES = ("tests/faults/", "tests/fuzz/")
# Tests that start real servers (a Celery worker, the web server) are `slow` too.
SERVER_FIXTURES = {"celery_workers", "web_server"}


def pytest_configure(config):
    # The mails' translations (notifications/locale, moderation/locale) are .po files in
    # git; .ci/setup.sh compiles them. A run without it (a checkout's own pytest)
    # compiles the missing or stale ones here, once, before any worker starts.
    if not hasattr(config, "workerinput"):
        stale = compile_messages()
        if stale is None:
            pytest.exit("msgfmt not found: install gettext (.ci/setup.sh does)", returncode=4)


@pytest.hookimpl(wrapper=True)
def pytest_collection_modifyitems(config, items):
    # Marked before `-m` deselects; moved to the front after pytest-django's ordering (a
    # stable sort keeps its order within each part).
    for item in items:
        if SERVER_FIXTURES & set(item.fixturenames):
            item.add_marker(pytest.mark.slow)
    result = yield
    items.sort(key=lambda item: not item.nodeid.startswith(OWN_STACK_SUITES))
    return result


@pytest.fixture(scope="session", autouse=True)
def s3_bucket():
    """The real S3 endpoint (moto server locally and in CI, MinIO in compose)."""
    ensure_bucket()


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and cached responses live in Redis: start every test clean.
    # Only our own prefix (this xdist worker's): a flush would also drop the broker's
    # queues and the other workers' keys.
    from django.core.cache import cache

    from config.redis import redis_client, throttle_client

    # The throttles' counters carry the cache's prefix, in their own Redis (the same one
    # unless TEST_THROTTLE_REDIS_URL says otherwise).
    for client in (redis_client(), throttle_client()):
        keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
        if keys:
            client.delete(*keys)
    # Tiles kept in this process belong to the map of the test that built them, and so
    # do the memo writes queued for the next throttle round trip.
    from config.redis import drop_deferred_writes
    from locations.tile_cache import process_memo

    process_memo.clear()
    drop_deferred_writes()
    yield


@pytest.fixture(autouse=True)
def _migration_rows_after_flush(request, django_db_blocker):
    # A transactional test ends with a flush, which empties the rows a data migration
    # wrote (the moderators group and its permissions, the categories; post_migrate brings back only
    # content types and permissions). pytest-django runs such tests last, but an xdist
    # worker runs its files in the order it is given them: a test with the database
    # finds the group put back.
    marker = request.node.get_closest_marker("django_db")
    if marker is not None or {"db", "transactional_db"} & set(request.fixturenames):
        from django.apps import apps
        from django.contrib.auth.models import Group

        from locations.categories import clear_cache
        from locations.models import Category

        with django_db_blocker.unblock():
            if not Group.objects.filter(name=settings.MODERATORS_GROUP).exists():
                importlib.import_module(
                    "moderation.migrations.0002_moderators_group_permissions"
                ).grant(apps, None)
            # The categories (locations migration 0012), which places must name.
            if not Category.objects.exists():
                importlib.import_module("locations.migrations.0013_category").seed(apps, None)
        # A category a rolled-back test created must not outlive it in the process's copy.
        clear_cache()
    yield


@pytest.fixture(autouse=True)
def _signing_clock_stands_still(monkeypatch):
    # A photo's presigned URL carries the second it was signed (X-Amz-Date): two
    # renderings of one place a test compares (bytes, ETags) straddling a second would
    # differ in that alone. Within a test every signature takes the test's start time.
    signed_at = botocore.compat.get_current_datetime()
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda **_: signed_at)


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
    keys = [broker_key(name) for name in BROKER_KEYS]
    client.delete(*keys)
    yield client
    client.delete(*keys)
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


# A real web server, started as production starts it (python -m config.server, so with the
# same limits), on a free loopback port and the pytest test database (the tests that use it
# need transactional_db so the server sees their rows).
@pytest.fixture
def web_server(transactional_db, tmp_path) -> Iterator[Callable[..., WebServer]]:
    """web_server(**env) starts one with child_env(**env), logging to a file under tmp_path;
    pages from its own origin (and other_origins) may open the live feed. Every server
    started is stopped at the end."""
    started: list[WebServer] = []

    def start(*, other_origins: tuple[str, ...] = (), **env: str) -> WebServer:
        server = WebServer(tmp_path / f"web-{len(started)}.log", env, other_origins=other_origins)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


@pytest.fixture
def asgi_server(web_server) -> int:
    """The port of a real web server with default settings."""
    return web_server().port
