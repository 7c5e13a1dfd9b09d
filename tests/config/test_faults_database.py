"""The database path under faults: pooled connections after a probe, locks, outages."""

import copy
import socket
import threading
import time
from contextlib import contextmanager

import pytest
from django.contrib.gis.geos import Point
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connections

from config import breakers
from config.health import check_database
from tests.locations.conftest import API
from tests.locations.factories import LocationFactory
from tests.media_store import samples
from tests.support import authenticated_client, other_session

UPLOAD_URL = "/api/v1/images/upload"
VIEWPORT = f"{API}/locations/viewport?bbox=13.0,52.3,13.8,52.7&limit=5"


@pytest.fixture
def pooled_default():
    """This thread's `default` connection replaced by one from a real psycopg pool of a
    single connection (the test settings disable the pool), as the web process has."""
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict["OPTIONS"]["pool"] = {"min_size": 1, "max_size": 1, "timeout": 5}
    settings_dict["CONN_MAX_AGE"] = 0
    original = connections["default"]
    # The tests' own `default` has no pool, so this wrapper's pool is the only one kept
    # for the alias; close_pool() forgets it again.
    pooled = type(original)(settings_dict, alias="default")
    connections["default"] = pooled
    try:
        yield pooled
    finally:
        connections["default"] = original
        pooled.close_pool()


@pytest.mark.django_db(transaction=True)
def test_a_ready_probe_does_not_shorten_the_next_statement_on_its_pooled_connection(
    pooled_default,
):
    check_database()  # /ready's check, then the connection goes back to the pool

    # The next user of that one pooled connection runs a statement longer than the
    # probe's 2 s limit: it must not be cancelled.
    started = time.perf_counter()
    with pooled_default.cursor() as cursor:
        cursor.execute("SELECT pg_sleep(2.3)")
    assert time.perf_counter() - started >= 2.3
    with pooled_default.cursor() as cursor:
        cursor.execute("SHOW statement_timeout")
        assert cursor.fetchone()[0] == "0"


def _hold_lock(sql: str, held: threading.Event, release: threading.Event) -> None:
    with other_session() as conn:
        conn.execute(sql)
        held.set()
        release.wait(30)
        conn.rollback()


@pytest.mark.django_db(transaction=True)
def test_it_refuses_with_503_instead_of_hanging_behind_a_lock(settings, user):
    assert settings.DB_LOCK_TIMEOUT_MS == 3000  # the web default, from the options
    client = authenticated_client(user)
    held, release = threading.Event(), threading.Event()
    # As a migration would: the images table locked against every access.
    holder = threading.Thread(
        target=_hold_lock,
        args=("LOCK TABLE media_store_image IN ACCESS EXCLUSIVE MODE", held, release),
    )
    holder.start()
    try:
        assert held.wait(10)
        started = time.perf_counter()
        response = client.post(
            UPLOAD_URL,
            {"file": SimpleUploadedFile("p.webp", samples.webp(), content_type="image/webp")},
            format="multipart",
        )
        elapsed = time.perf_counter() - started
    finally:
        release.set()
        holder.join()

    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) >= 1
    assert "locked" in response.json()["detail"]
    assert 2.5 <= elapsed < 3.0 + 2.0, elapsed


@contextmanager
def stalled_database_port():
    """`default` pointed at a port that accepts connections and never answers, as a
    hung or paused PostgreSQL does: each connection attempt waits DB_CONNECT_TIMEOUT."""
    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(64)
    connection = connections["default"]
    original_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = str(stalled.getsockname()[1])
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original_port
        stalled.close()


def _timed_get(client, url):
    started = time.perf_counter()
    response = client.get(url)
    return response, time.perf_counter() - started


@pytest.mark.django_db(transaction=True)
def test_while_the_database_is_down_reads_fail_at_once_once_the_breaker_opens(api_client, settings):
    settings.BREAKER_FAIL_MAX = 2
    LocationFactory(approved=True, point=Point(13.4, 52.52, srid=4326))
    fresh, _ = _timed_get(api_client, VIEWPORT)
    assert fresh.status_code == 200

    with stalled_database_port():
        # The first BREAKER_FAIL_MAX requests each wait for a connection...
        for _ in range(2):
            response, elapsed = _timed_get(api_client, VIEWPORT)
            assert response.status_code == 200 and response["X-Cache-Stale"] == "true"
            assert elapsed >= 0.9
        # ...then the breaker is open: the stale copy, and a 503 where there is none,
        # come at once.
        stale, stale_elapsed = _timed_get(api_client, VIEWPORT)
        missing, missing_elapsed = _timed_get(api_client, f"{API}/locations/search?q=never")

    assert stale.status_code == 200
    assert stale["X-Cache-Stale"] == "true"
    assert stale.content == fresh.content
    assert stale_elapsed < 0.3, stale_elapsed
    assert missing.status_code == 503
    assert missing["Content-Type"] == "application/problem+json"
    assert int(missing["Retry-After"]) >= 1
    assert missing_elapsed < 0.3, missing_elapsed


@pytest.mark.django_db(transaction=True)
def test_once_the_database_is_back_the_breaker_lets_requests_through_again(api_client, settings):
    settings.BREAKER_FAIL_MAX = 1
    settings.BREAKER_RESET_TIMEOUT = 1
    with stalled_database_port():
        assert api_client.get(f"{API}/locations/search?q=x").status_code == 503
        _, elapsed = _timed_get(api_client, f"{API}/locations/search?q=x")
        assert elapsed < 0.3
    assert breakers.database_breaker().current_state == "open"

    time.sleep(1.1)  # reset_timeout: the next request is the trial call
    response = api_client.get(f"{API}/locations/search?q=x")
    assert response.status_code == 200, response.content
    assert breakers.database_breaker().current_state == "closed"


@pytest.mark.django_db(transaction=True)
def test_a_pooled_connection_gets_its_postgis_adapters_once_and_keeps_them(
    pooled_default, monkeypatch
):
    from django.contrib.gis.db.backends.postgis.adapter import PostGISAdapter
    from django.contrib.gis.geos import Point

    registered = []
    register = type(pooled_default).register_geometry_adapters

    def counting(self, pg_connection, clear_caches=False):
        registered.append(pg_connection)
        return register(self, pg_connection, clear_caches)

    monkeypatch.setattr(type(pooled_default), "register_geometry_adapters", counting)
    answers = []
    for _ in range(3):  # three checkouts of the pool's one connection
        with pooled_default.cursor() as cursor:
            cursor.execute(
                "SELECT ST_AsText(%s::geometry)", [PostGISAdapter(Point(13.4, 52.5, srid=4326))]
            )
            answers.append(cursor.fetchone()[0])
        pooled_default.close()  # back to the pool, as at the end of a request
    assert answers == ["POINT(13.4 52.5)"] * 3  # a geometry parameter still dumps
    assert len(registered) == 1
