"""The database path when PostgreSQL dies or stops answering, on a throwaway cluster of
this test's own (never the shared one): dead pooled connections must not count as a
healthy database, and no query may wait without limit on a paused server."""

import copy
import shutil
import tempfile
import time
from pathlib import Path

import pytest
from django.db import OperationalError, connections

from config import breakers
from locations import exports
from tests.faults.harness import Postgres
from tests.support import port_is_open

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def cluster():
    # Not under pytest's tmp dir: the postgres user must be able to reach the cluster.
    root = Path(tempfile.mkdtemp(prefix="placemap-dbkill-"))
    root.chmod(0o755)
    postgres = Postgres(root)
    try:
        postgres.init()
        yield postgres
    finally:
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def pooled(cluster, settings):
    """This thread's `default` connection replaced by one from a psycopg pool of three
    connections, all open, on the throwaway cluster (as the web process has)."""
    # A postmaster killed by the previous test may linger unreaped for a moment, and its
    # socket lock file would then stop the new one from starting.
    for lock in cluster.dir.glob(".s.PGSQL.*.lock"):
        if not port_is_open(cluster.port):
            lock.unlink(missing_ok=True)
    cluster.ensure_running()
    settings.BREAKER_FAIL_MAX = 3
    settings.BREAKER_RESET_TIMEOUT = 30
    settings.DB_QUERY_DEADLINE = 1.5
    breakers.reset_all()
    settings_dict = copy.deepcopy(connections["default"].settings_dict)
    settings_dict.update(
        HOST="127.0.0.1", PORT=str(cluster.port), NAME="placemap", USER="placemap",
        PASSWORD="placemap", CONN_MAX_AGE=0,
    )  # fmt: skip
    settings_dict["OPTIONS"]["connect_timeout"] = 1
    settings_dict["OPTIONS"]["pool"] = {"min_size": 3, "max_size": 3, "timeout": 5}
    original = connections["default"]
    # The tests' own `default` has no pool, so this wrapper's pool is the only one kept
    # for the alias; close_pool() forgets it again.
    wrapper = type(original)(settings_dict, alias="default")
    connections["default"] = wrapper
    wrapper.pool.open(wait=True)  # min_size: three idle connections
    try:
        yield wrapper
    finally:
        connections["default"] = original
        wrapper.close()
        wrapper.close_pool()
        breakers.reset_all()


def _timed_query(wrapper) -> tuple[Exception | None, float]:
    started = time.monotonic()
    try:
        with wrapper.cursor() as cursor:
            cursor.execute("SELECT 1")
    except OperationalError as exc:
        wrapper.close()
        return exc, time.monotonic() - started
    wrapper.close()
    return None, time.monotonic() - started


@pytest.mark.django_db
def test_it_fails_fast_once_a_killed_database_is_known_to_be_down(pooled, cluster):
    assert _timed_query(pooled)[0] is None
    cluster.kill()

    # Each request finds the pooled connections dead: none of them may pass for a
    # healthy database, and none may wait out the pool's 5 s for a new connection.
    attempts = [_timed_query(pooled) for _ in range(3)]
    assert all(error is not None for error, _ in attempts), attempts
    assert max(elapsed for _, elapsed in attempts) < 2.5, attempts
    assert breakers.database_breaker().current_state == "open"

    error, elapsed = _timed_query(pooled)
    assert isinstance(error, breakers.DatabaseCircuitOpen)
    assert elapsed < 0.1


@pytest.mark.django_db
def test_a_query_on_a_paused_database_gives_up_instead_of_waiting_for_ever(pooled, cluster):
    pooled.ensure_connection()  # held by the request when the server stops answering
    cluster.pause()
    try:
        error, elapsed = _timed_query(pooled)
        # A new request's checkout: its check round trip is bounded by connect_timeout.
        second, second_elapsed = _timed_query(pooled)
    finally:
        cluster.resume()

    assert error is not None and 1.4 <= elapsed < 2.5, (error, elapsed)
    assert second is not None and second_elapsed < 2.5, (second, second_elapsed)
    # Both count toward the breaker: a broken connection is an outage, not an answer.
    assert breakers.database_breaker().fail_counter == 2

    # Once the server answers again, so do requests (the dead connections were dropped).
    assert _timed_query(pooled)[0] is None
    assert breakers.database_breaker().fail_counter == 0


def _public_read(wrapper):
    # What a request does: one public read, then its connection back to the pool.
    from locations.selectors.sql import run_public_read

    started = time.monotonic()
    try:
        return run_public_read("SELECT 41 + 1", {}), time.monotonic() - started
    except Exception as exc:
        return exc, time.monotonic() - started
    finally:
        wrapper.close()


@pytest.fixture
def checks(monkeypatch):
    """How many checkout round trips (empty queries) were made."""
    from config.db_backend import base

    made = []
    round_trip = base._round_trip

    def counted(conn, seconds):
        made.append(conn)
        return round_trip(conn, seconds)

    monkeypatch.setattr(base, "_round_trip", counted)
    return made


@pytest.mark.django_db
def test_a_public_read_skips_the_checkout_round_trip_and_survives_a_restart(
    pooled, cluster, checks
):
    assert _public_read(pooled)[0] == 42
    assert _public_read(pooled)[0] == 42
    assert checks == []  # the statement itself was the check

    cluster.kill()
    # As the `pooled` fixture does: a killed postmaster's socket lock would stop the start.
    for lock in cluster.dir.glob(".s.PGSQL.*.lock"):
        lock.unlink(missing_ok=True)
    cluster.ensure_running()
    # Every pooled connection is dead now: the read finds its one dead, gives it back and
    # runs again on a checked connection, which the pool replaces by a new one.
    assert _public_read(pooled)[0] == 42
    assert checks, "the second try goes through the checked checkout"
    assert breakers.database_breaker().fail_counter == 0  # a restart is not an outage
    assert _public_read(pooled)[0] == 42


@pytest.mark.django_db
def test_public_reads_on_a_killed_database_still_open_the_breaker(pooled, cluster):
    from locations.errors import MapUnavailable

    assert _public_read(pooled)[0] == 42
    cluster.kill()
    attempts = [_public_read(pooled) for _ in range(3)]
    assert all(isinstance(error, MapUnavailable) for error, _ in attempts), attempts
    assert max(elapsed for _, elapsed in attempts) < 2.5, attempts
    assert breakers.database_breaker().current_state == "open"
    error, elapsed = _public_read(pooled)
    assert isinstance(error, MapUnavailable)
    assert isinstance(error.__cause__, breakers.DatabaseCircuitOpen)
    assert elapsed < 0.1


@pytest.mark.django_db
def test_a_public_read_on_a_paused_database_gives_up_after_its_own_bound(pooled, cluster, settings):
    from locations.errors import MapUnavailable

    settings.DB_QUERY_DEADLINE = 30  # the trusted first statement has its own bound
    settings.PLACES_STATEMENT_TIMEOUT_MS = 500
    assert _public_read(pooled)[0] == 42
    cluster.pause()
    try:
        error, elapsed = _public_read(pooled)
    finally:
        cluster.resume()
    # 0.5 s statement timeout + 1 s connect timeout for the trusted statement, then a
    # checked checkout bounded by the connect timeout.
    assert isinstance(error, MapUnavailable), error
    assert 1.4 <= elapsed < 3.5, elapsed
    assert breakers.database_breaker().fail_counter == 1
    assert _public_read(pooled)[0] == 42


@pytest.mark.django_db
@pytest.mark.parametrize("reader", ["cursor", "copy"])
def test_a_streaming_read_on_a_paused_database_gives_up_instead_of_waiting_for_ever(
    pooled, cluster, reader
):
    # The two ways an export streams its rows: a server-side cursor's FETCHes (CSV) and
    # the rows of a COPY (GeoJSON), read after the statement itself has started.
    if reader == "cursor":
        chunks = exports._fetch_chunks(
            "SELECT g, repeat('x', 100) FROM generate_series(1, 200000) g", {}, 10, "default"
        )
    else:
        chunks = exports._copy_features(
            "SELECT repeat('x', 100) || g FROM generate_series(1, 200000) g", {}, 10, "default"
        )
    assert len(next(chunks)) == 10
    cluster.pause()
    started = time.monotonic()
    try:
        with pytest.raises(OperationalError):
            for _ in chunks:  # what the COPY had sent before the pause, then the wait
                pass
        elapsed = time.monotonic() - started
    finally:
        cluster.resume()
        chunks.close()

    # DB_QUERY_DEADLINE (1.5 s), then the transaction's clean-up, whose new connection's
    # check gives up after connect_timeout (1 s).
    assert elapsed < 4, elapsed
    # A broken connection is an outage for the breaker, as for any other query (the
    # clean-up's failed check counts too).
    assert breakers.database_breaker().fail_counter >= 1
