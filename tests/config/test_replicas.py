"""Read replicas (config/db_router.py, docs/scaling.md "Read replicas"), against the real
streaming standby that .ci/replica.sh runs (TEST_DATABASE_REPLICA_URL, port 5433): the
test database is created on the primary and streams to it under the same name, so the
alias `replica_0` below is that standby, and each test proves where a read really went
(queries seen on the alias' connection, whose server is in recovery on the standby's
port)."""

import copy
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from urllib.parse import urlsplit

import psycopg
import pytest
from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connections, transaction
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config import db_router
from config.db_backend.base import DatabaseWrapper
from tests.locations.factories import LocationFactory
from tests.support import free_port, wait_for

REPLICA = "replica_0"
DEAD = "replica_1"
LON, LAT = 13.4050, 52.5200
# Seconds to wait for the shared standby to replay (others' bulk writes can delay it).
REPLAY_WAIT = 180


def _standby() -> dict:
    url = urlsplit(settings.TEST_DATABASE_REPLICA_URL)
    return {
        "HOST": url.hostname,
        "PORT": str(url.port or 5432),
        "USER": url.username or "",
        "PASSWORD": url.password or "",
    }


def _add_alias(alias: str, **where) -> None:
    # The primary's settings (the test database's name, options) with the standby's
    # address. A connection made here, not an entry of DATABASES: pytest-django would
    # otherwise refuse it in a test, or flush it (a read-only standby) after one.
    params = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    params.update(where, CONN_MAX_AGE=0)
    params["OPTIONS"].pop("pool", None)
    connections[alias] = DatabaseWrapper(params, alias)


def _drop_alias(alias: str) -> None:
    connections[alias].close()
    del connections[alias]


def _primary_sql(sql: str):
    params = connections[DEFAULT_DB_ALIAS].get_connection_params()
    keep = {
        key: params[key] for key in ("host", "port", "user", "password", "dbname") if key in params
    }
    with psycopg.connect(**keep, autocommit=True) as conn:
        return conn.execute(sql).fetchone()[0]


def _standby_sql(sql: str, *, as_superuser: bool = False):
    where = _standby()
    user = "postgres" if as_superuser else where["USER"]
    with psycopg.connect(
        host=where["HOST"],
        port=where["PORT"],
        user=user,
        password=where["PASSWORD"] or None,
        dbname=connections[DEFAULT_DB_ALIAS].settings_dict["NAME"],
        autocommit=True,
        connect_timeout=3,
    ) as conn:
        return conn.execute(sql).fetchone()[0]


def _replayed() -> None:
    """Wait until the standby has replayed everything the primary wrote so far."""
    lsn = _primary_sql("SELECT pg_current_wal_lsn()::text")
    wait_for(
        lambda: _standby_sql(f"SELECT pg_last_wal_replay_lsn() >= '{lsn}'::pg_lsn"),
        timeout=REPLAY_WAIT,
        what="the standby to replay the primary's writes",
    )


@pytest.fixture
def replica(transactional_db) -> Iterator[str]:
    """`replica_0`: the standby, as DATABASE_REPLICA_URLS would configure it. Committed
    rows (transactional_db) stream to it; no background probes (the tests probe). The
    standby is shared with everything else on the cluster (a bulk import elsewhere can
    make it lag for a minute): the tests wait for the rows they read, so its lag limit is
    out of the way except in the lag test."""
    _add_alias(REPLICA, **_standby())
    db_router.forget_health()
    with override_settings(
        REPLICA_ALIASES=[REPLICA], REPLICA_HEALTH_CHECK_SECONDS=3600, REPLICA_MAX_LAG_S=3600
    ):
        wait_for(
            lambda: db_router.refresh_health()[REPLICA].usable,
            timeout=REPLAY_WAIT,
            what="the standby to hold the test database",
        )
        yield REPLICA
    db_router.forget_health()
    _drop_alias(REPLICA)


@pytest.fixture
def place(replica):
    place = LocationFactory(approved=True)  # at LON, LAT
    _replayed()
    return place


def _reads(client, path: str, **headers):
    """The response, and how many queries each alias ran for it."""
    with (
        CaptureQueriesContext(connections[REPLICA]) as on_replica,
        CaptureQueriesContext(connections[DEFAULT_DB_ALIAS]) as on_primary,
    ):
        response = client.get(path, **headers)
        body = b"".join(response.streaming_content) if response.streaming else response.content
    return response, body, len(on_replica), len(on_primary)


def _public_reads(place) -> list[str]:
    return [
        f"/api/v1/locations/search?lat={LAT}&lon={LON}&radius=500",
        f"/api/v1/locations/viewport?bbox={LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}",
        f"/api/v1/locations/{place.id}",
        "/api/v1/tiles/0/0/0.mvt",
        "/api/v1/locations/export?format=csv",
        f"/api/v1/ogc/collections/places/items/{place.id}?f=json",
    ]


def test_the_replica_alias_is_the_streaming_standby(replica):
    with connections[replica].cursor() as cursor:
        cursor.execute("SELECT pg_is_in_recovery(), inet_server_port()")
        in_recovery, port = cursor.fetchone()
    assert in_recovery is True
    assert port == int(_standby()["PORT"])
    assert port != int(connections[DEFAULT_DB_ALIAS].settings_dict["PORT"] or 5432)


def test_anonymous_public_reads_run_on_the_standby(client, place):
    for path in _public_reads(place):
        response, body, on_replica, on_primary = _reads(client, path)
        assert response.status_code == 200, (path, body[:300])
        assert on_replica >= 1, path
        assert on_primary == 0, path
    # The standby's answer holds the place written on the primary.
    assert str(place.id).encode() in _reads(client, _public_reads(place)[0])[1]


def test_authenticated_reads_and_writes_run_on_the_primary(user, place):
    user_client = APIClient()
    user_client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    response, body, on_replica, on_primary = _reads(user_client, _public_reads(place)[0])
    assert response.status_code == 200
    assert str(place.id).encode() in body
    assert (on_replica, on_primary > 0) == (0, True)
    with CaptureQueriesContext(connections[REPLICA]) as on_replica_log:
        created = user_client.post(
            "/api/v1/locations",
            {
                "name": "Fresh bench",
                "description": "",
                "category": "park",
                "latitude": LAT,
                "longitude": LON,
            },
            format="json",
        )
    assert created.status_code == 201, created.content
    assert len(on_replica_log) == 0


def test_a_client_that_wrote_reads_the_primary_for_the_sticky_seconds(client, place):
    registered = client.post(
        "/api/v1/auth/register",
        {"username": "sticky", "email": "sticky@example.org", "password": "a long passphrase 42"},
        content_type="application/json",
    )
    assert registered.status_code == 201, registered.content
    cookie = registered.cookies[db_router.STICKY_COOKIE]
    assert cookie["max-age"] == settings.REPLICA_STICKY_SECONDS
    assert cookie["httponly"]

    path = _public_reads(place)[0]
    _, _, on_replica, on_primary = _reads(client, path)
    assert (on_replica, on_primary > 0) == (0, True)

    with override_settings(REPLICA_STICKY_SECONDS=0):  # the mark has expired
        _, _, on_replica, on_primary = _reads(client, path)
    assert (on_replica > 0, on_primary) == (True, 0)

    client.cookies[db_router.STICKY_COOKIE] = "1:forged:signature"
    _, _, on_replica, on_primary = _reads(client, path)
    assert (on_replica > 0, on_primary) == (True, 0)


def test_writes_and_transactions_go_to_the_primary(replica):
    router = db_router.ReplicaRouter()
    with db_router.reading_from(replica):
        assert router.db_for_read(None) == replica
        assert router.db_for_write(None) == DEFAULT_DB_ALIAS
        with transaction.atomic():
            assert router.db_for_read(None) == DEFAULT_DB_ALIAS
    assert router.db_for_read(None) == DEFAULT_DB_ALIAS
    assert router.allow_migrate(replica, "locations") is False


def _anonymous_search_alias() -> str:
    return db_router.public_read_alias(RequestFactory().get("/api/v1/locations/search"))


@pytest.fixture
def dead_replica(replica) -> Iterator[str]:
    """`replica_1` on a port nothing listens on, beside the live standby."""
    _add_alias(DEAD, **{**_standby(), "PORT": str(free_port())})
    with override_settings(REPLICA_ALIASES=[replica, DEAD]):
        yield DEAD
    _drop_alias(DEAD)


def test_a_replica_that_is_down_is_skipped_and_ready_reports_it(client, dead_replica):
    health = db_router.refresh_health()
    assert health[dead_replica].up is False
    assert {_anonymous_search_alias() for _ in range(20)} == {REPLICA}

    response = client.get("/ready")
    assert response.status_code == 200, response.json()
    check = response.json()["checks"]["replicas"]
    assert check["status"] == "error"  # advisory: /ready stays 200
    assert check["error"] == f"CheckFailed: not used: {dead_replica}"
    assert check["replicas"][dead_replica]["up"] is False
    assert check["replicas"][dead_replica]["used"] is False
    assert check["replicas"][REPLICA]["up"] is True
    assert check["replicas"][REPLICA]["in_recovery"] is True


def test_a_replica_failing_mid_request_is_retried_on_the_primary(client, place, dead_replica):
    for path in _public_reads(place):
        # Believed healthy (its last probe said so), but down when the read comes.
        db_router._verdicts[dead_replica] = db_router.ReplicaHealth(
            True, 0.0, True, None, time.monotonic()
        )
        with override_settings(REPLICA_ALIASES=[dead_replica]):
            response, body, _, on_primary = _reads(client, path)
            assert response.status_code == 200, (path, body[:300])
            assert on_primary > 0, path
            assert db_router.health(dead_replica).up is False  # skipped until its next probe
            assert _anonymous_search_alias() == DEFAULT_DB_ALIAS
    assert str(place.id).encode() in _reads(client, _public_reads(place)[0])[1]


def test_a_read_retried_on_the_primary_counts_once_against_its_throttle(
    client, place, dead_replica, settings
):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "reads": "2/minute",
        },
    }
    # The detail reads through the ORM: the whole view runs again on the primary (the
    # raw SQL reads retry their statement only, config.db_router.retry_on_primary).
    path = _public_reads(place)[2]
    db_router._verdicts[dead_replica] = db_router.ReplicaHealth(
        True, 0.0, True, None, time.monotonic()
    )
    with override_settings(REPLICA_ALIASES=[dead_replica]):
        retried, _, _, on_primary = _reads(client, path)
    assert (retried.status_code, on_primary > 0) == (200, True)
    assert client.get(path).status_code == 200  # the second of two
    assert client.get(path).status_code == 429


def test_a_lagging_replica_is_skipped_until_it_catches_up(replica):
    # Pausing replay stalls this standby for every test run that shares it: keep it short
    # and always resume.
    with override_settings(REPLICA_MAX_LAG_S=0.5):
        wait_for(
            lambda: db_router.refresh_health()[replica].usable,
            timeout=REPLAY_WAIT,
            what="the standby to be current before the pause",
        )
        assert _anonymous_search_alias() == replica
        _standby_sql("SELECT pg_wal_replay_pause()::text", as_superuser=True)
        try:
            LocationFactory(approved=True)  # WAL the standby receives but does not replay
            wait_for(
                lambda: (db_router.refresh_health()[replica].lag_s or 0) > 0.5,
                timeout=20,
                what="the measured lag to pass REPLICA_MAX_LAG_S",
            )
            assert db_router.health(replica).usable is False
            assert _anonymous_search_alias() == DEFAULT_DB_ALIAS
        finally:
            _standby_sql("SELECT pg_wal_replay_resume()::text", as_superuser=True)
        wait_for(
            lambda: db_router.refresh_health()[replica].usable,
            timeout=REPLAY_WAIT,
            what="the standby to catch up",
        )
        assert _anonymous_search_alias() == replica


def _databases(**env) -> dict:
    """DATABASES as config.settings.local builds them from `env` (a fresh process)."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    environment.update(env, DJANGO_SETTINGS_MODULE="config.settings.local")
    script = (
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps({a: {k: d[k] for k in ('HOST', 'PORT', 'NAME', 'OPTIONS') } "
        "| {'DISABLE_SERVER_SIDE_CURSORS': d.get('DISABLE_SERVER_SIDE_CURSORS', False)} "
        "for a, d in settings.DATABASES.items()}, default=str))"
    )
    result = subprocess.run(
        [sys.executable, "-c", script], env=environment, capture_output=True, text=True, timeout=60
    )
    if result.returncode:
        raise RuntimeError(result.stderr)
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_each_replica_url_is_an_alias_with_the_primarys_options():
    databases = _databases(
        DATABASE_REPLICA_URLS="postgis://u:p@standby-a:5432/placemap,postgis://u:p@standby-b:6432/placemap"
    )
    assert list(databases) == ["default", "replica_0", "replica_1"]
    assert (databases["replica_1"]["HOST"], databases["replica_1"]["PORT"]) == ("standby-b", 6432)
    assert databases["replica_0"]["OPTIONS"] == databases["default"]["OPTIONS"]


def test_behind_pgbouncer_there_are_no_server_side_cursors_nor_prepared_statements():
    with pytest.raises(RuntimeError, match="DB_PGBOUNCER=true needs DATABASE_DIRECT_URL"):
        _databases(DB_PGBOUNCER="true")
    databases = _databases(
        DB_PGBOUNCER="true",
        DATABASE_URL="postgis://u:p@pgbouncer:6432/placemap",
        DATABASE_DIRECT_URL="postgis://u:p@db:5432/placemap",
    )
    default, direct = databases["default"], databases["direct"]
    assert default["DISABLE_SERVER_SIDE_CURSORS"] is True
    assert default["OPTIONS"]["prepare_threshold"] is None
    assert "options" not in default["OPTIONS"]  # PgBouncer refuses the startup parameter
    assert (direct["HOST"], direct["DISABLE_SERVER_SIDE_CURSORS"]) == ("db", False)
    assert "lock_timeout" in direct["OPTIONS"]["options"]


def test_the_export_streams_through_the_direct_connection_behind_pgbouncer():
    assert db_router.streaming_alias(DEFAULT_DB_ALIAS) == DEFAULT_DB_ALIAS
    with override_settings(DATABASE_DIRECT_URL="postgis://u:p@db:5432/placemap"):
        assert db_router.streaming_alias(DEFAULT_DB_ALIAS) == "direct"
        assert db_router.streaming_alias(REPLICA) == REPLICA
