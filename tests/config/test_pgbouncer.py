"""Placemap's reads and writes through a real PgBouncer in transaction pooling, with the
settings DB_PGBOUNCER gives an alias (config.settings.base.behind_pgbouncer,
docs/scaling.md "Connection pooling"). PgBouncer (Debian's `pgbouncer`, installed by
.ci/setup.sh) runs as the postgres user on a free port in a temporary directory, in
front of the test PostgreSQL, and is stopped after the module."""

import copy
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from django.db import DEFAULT_DB_ALIAS, connections, transaction

from config import db_router
from config.db_backend.base import DatabaseWrapper
from config.settings.base import behind_pgbouncer
from locations import selectors
from locations.models import Location
from tests.locations.factories import LocationFactory
from tests.support import free_port, wait_for

BOUNCER = "bouncer"


@pytest.fixture(scope="module")
def pgbouncer() -> Iterator[int]:
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    port = free_port()
    workdir = Path(tempfile.mkdtemp(prefix="placemap-pgbouncer-"))
    (workdir / "userlist.txt").write_text(f'"{primary["USER"]}" "{primary["PASSWORD"]}"\n')
    (workdir / "pgbouncer.ini").write_text(
        f"""[databases]
* = host={primary["HOST"] or "127.0.0.1"} port={primary["PORT"] or 5432}
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = {port}
unix_socket_dir =
auth_type = plain
auth_file = {workdir}/userlist.txt
admin_users = {primary["USER"]}
pool_mode = transaction
default_pool_size = 2
max_client_conn = 50
logfile = {workdir}/pgbouncer.log
"""
    )
    shutil.chown(workdir, "postgres")
    for name in ("userlist.txt", "pgbouncer.ini"):
        shutil.chown(workdir / name, "postgres")
    process = subprocess.Popen(
        ["runuser", "-u", "postgres", "--", "pgbouncer", str(workdir / "pgbouncer.ini")],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    try:
        wait_for(
            lambda: _admin(port, "SHOW VERSION") is not None,
            timeout=20,
            what="pgbouncer to listen",
            log=lambda: (workdir / "pgbouncer.log").read_text(errors="replace"),
        )
        yield port
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def _admin(port: int, command: str):
    primary = connections[DEFAULT_DB_ALIAS].settings_dict
    try:
        with psycopg.connect(
            host="127.0.0.1",
            port=port,
            dbname="pgbouncer",
            user=primary["USER"],
            password=primary["PASSWORD"],
            autocommit=True,
            connect_timeout=2,
        ) as conn:
            conn.prepare_threshold = None
            cursor = conn.cursor()
            cursor.execute(command)
            return cursor.fetchall()
    except psycopg.OperationalError:
        return None


def _queries_through(port: int) -> int:
    """Queries PgBouncer has passed to the test database so far."""
    database = connections[DEFAULT_DB_ALIAS].settings_dict["NAME"]
    stats = _admin(port, "SHOW STATS") or []
    return sum(row[4] for row in stats if row[0] == database)  # total_query_count


@pytest.fixture
def bouncer(pgbouncer, transactional_db) -> Iterator[str]:
    params = copy.deepcopy(connections[DEFAULT_DB_ALIAS].settings_dict)
    params.update(HOST="127.0.0.1", PORT=str(pgbouncer), CONN_MAX_AGE=0)
    params["OPTIONS"].pop("pool", None)
    behind_pgbouncer(params)
    connections[BOUNCER] = DatabaseWrapper(params, BOUNCER)
    yield BOUNCER
    connections[BOUNCER].close()
    del connections[BOUNCER]


def test_the_public_reads_run_through_pgbouncer_in_transaction_pooling(bouncer, pgbouncer):
    place = LocationFactory(approved=True)
    before = _queries_through(pgbouncer)
    with db_router.reading_from(bouncer):
        # Raw SQL: SET LOCAL statement_timeout and the query in one message (one transaction).
        body = selectors.locations_search_json(
            lat=place.point.y, lon=place.point.x, radius=500, q="", category=[], limit=10, offset=0
        )
        assert str(place.id) in body
        # The ORM under public_read_timeout (a transaction of its own).
        with selectors.public_read_timeout():
            assert Location.objects.filter(pk=place.pk).exists()
    assert _queries_through(pgbouncer) > before


def test_iterators_and_repeated_statements_survive_transaction_pooling(bouncer):
    LocationFactory.create_batch(3, approved=True)
    # Outside a transaction each FETCH of a WITH HOLD cursor could reach another server
    # connection; with server-side cursors off the iterator reads one client-side result.
    ids = [row.pk for row in Location.objects.using(bouncer).order_by("pk").iterator(chunk_size=1)]
    assert len(ids) == 3
    # More runs than psycopg's prepare threshold (5): nothing is prepared on a server
    # connection that the next transaction may not get.
    for _ in range(8):
        assert Location.objects.using(bouncer).filter(status="approved").count() == 3
    with transaction.atomic(using=bouncer):
        Location.objects.using(bouncer).filter(pk=ids[0]).update(name="Renamed through PgBouncer")
    assert Location.objects.get(pk=ids[0]).name == "Renamed through PgBouncer"
