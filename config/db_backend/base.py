"""PostGIS behind the database circuit breaker (config/breakers.py), with client-side
bounds on a server that stopped answering.

- Opening a connection (a checkout from the pool, or a new one without a pool) is
  guarded: while PostgreSQL is known to be down a request fails at once instead of
  waiting DB_POOL_TIMEOUT for a connection.
- A pooled connection is checked with one round trip before it is handed out: a pooled
  connection whose server died is discarded (the next one is tried), and a checkout
  counts as a success for the breaker only when the server answered, not merely because
  the pool had an idle (possibly dead) connection.
- A query that fails because its connection broke counts as a failure too.
- statement_timeout is enforced by the server, so it cannot end a wait on a server that
  is paused or unreachable while its kernel still acknowledges our packets. A watchdog
  thread shuts down the socket of a round trip that outlives its deadline
  (DB_CONNECT_TIMEOUT for the checkout check, DB_QUERY_DEADLINE for a query, and for
  each fetch of a streaming read inside `bounded_reads`), which fails it as a broken
  connection.
- Inside `trusting_pooled_connection` (one public read, safe to repeat) a pooled
  connection is handed out without the checkout round trip while no outage is suspected
  (the breaker closed, no failure counted): its first statement is the check. Should it
  fail on a broken connection (the server restarted since the connection was pooled),
  nothing is counted and the read runs once more on a checked connection, which counts
  as above. The first statement's client-side bound is then the read's own `deadline`
  (its statement timeout plus a connect timeout), so a paused server costs the read that
  plus one check, not DB_QUERY_DEADLINE.
"""

import contextlib
import contextvars
import itertools
import socket
import threading
import time
import weakref
from collections.abc import Callable
from typing import TypeVar

import psycopg
from django.conf import settings
from django.contrib.gis.db.backends.postgis.base import DatabaseWrapper as PostGISDatabaseWrapper
from django.db import DatabaseError, OperationalError
from psycopg import IsolationLevel

from config import db_router
from config.breakers import database_breaker, guard_database


class _Watchdog:
    """Shuts down the socket of every registered round trip past its deadline."""

    TICK = 0.1

    def __init__(self):
        self._lock = threading.Lock()
        self._running: dict[int, tuple[float, int]] = {}  # token -> (deadline, socket fd)
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    @contextlib.contextmanager
    def bound(self, conn: psycopg.Connection, seconds: float):
        if seconds <= 0:
            yield
            return
        token = next(self._tokens)
        with self._lock:
            self._running[token] = (time.monotonic() + seconds, conn.pgconn.socket)
            if self._thread is None:
                self._thread = threading.Thread(target=self._watch, name="db-watchdog", daemon=True)
                self._thread.start()
        try:
            yield
        finally:
            with self._lock:
                self._running.pop(token, None)

    def _watch(self) -> None:
        while True:
            time.sleep(self.TICK)
            now = time.monotonic()
            # Under the lock: a registered round trip is still running, so its socket
            # (the fd) is still the connection's and cannot have been reused.
            with self._lock:
                for token, (deadline, fd) in list(self._running.items()):
                    if now >= deadline:
                        del self._running[token]
                        _shut_down(fd)


def _shut_down(fd: int) -> None:
    # fromfd duplicates the descriptor: shutting the duplicate down ends the connection
    # for libpq (its read sees EOF) without closing libpq's own descriptor.
    with contextlib.suppress(OSError), socket.fromfd(fd, socket.AF_INET, socket.SOCK_STREAM) as s:
        s.shutdown(socket.SHUT_RDWR)


watchdog = _Watchdog()


T = TypeVar("T")

# Pooled psycopg connections whose PostGIS adapters are registered already.
_GEOMETRY_ADAPTED: "weakref.WeakSet[psycopg.Connection]" = weakref.WeakSet()

# The client-side bound (seconds) of the first statement on a connection handed out
# without its checkout round trip; None outside trusting_pooled_connection.
_TRUSTED_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar(
    "trusted_checkout_deadline", default=None
)


class StaleConnection(OperationalError):
    """A pooled connection handed out without its check was dead at its first statement:
    not counted as an outage; trusting_pooled_connection runs the read again."""

    def __init__(self, wrapper: "DatabaseWrapper"):
        super().__init__("A pooled connection was dead at its first statement.")
        self.wrapper = wrapper


def trusting_pooled_connection(read: Callable[[], T], *, deadline: float) -> T:
    """Run `read` (statements safe to run twice, outside a transaction) on pooled
    connections taken without the checkout round trip; if one of them was dead, give it
    back (the pool drops it) and run `read` once more with checked connections. Its first
    statement waits at most `deadline` seconds for the server (then it counts as dead)."""
    token = _TRUSTED_DEADLINE.set(deadline)
    try:
        return read()
    except StaleConnection as exc:
        stale = exc.wrapper
    finally:
        _TRUSTED_DEADLINE.reset(token)
    stale.close()
    return read()


def _is_broken(conn: psycopg.Connection | None) -> bool:
    return conn is None or conn.closed or conn.broken


def _round_trip(conn: psycopg.Connection, seconds: float) -> None:
    """psycopg_pool's check_connection (an empty query), bounded by `seconds`."""
    with watchdog.bound(conn, seconds):
        if conn.autocommit:
            conn.execute("")
        else:
            conn.autocommit = True
            try:
                conn.execute("")
            finally:
                with contextlib.suppress(Exception):
                    conn.autocommit = False


def _count_failure(exc: BaseException) -> None:
    def fail():
        raise exc

    # Counted by the breaker; whether it is open now is the next caller's business.
    with contextlib.suppress(Exception):
        guard_database(fail)


def _unguarded(fn):
    return fn()


def _recovery_conflict(exc: BaseException) -> bool:
    # A hot standby cancels a query whose rows its replay must remove (SQLSTATE 40001,
    # "canceling statement due to conflict with recovery"): the primary can answer it.
    return isinstance(exc.__cause__, psycopg.errors.SerializationFailure)


class DatabaseWrapper(PostGISDatabaseWrapper):
    """The primary, or a read replica (config.db_router): a replica is not behind the
    database breaker (its health verdict skips it instead), and its failures raise
    ReplicaUnavailable so that the read runs again on the primary."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.execute_wrappers.append(self._bounded_execute)
        # The open connection came from the pool without its check and has not answered
        # a statement yet (trusting_pooled_connection).
        self.unchecked = False

    @property
    def is_replica(self) -> bool:
        return db_router.is_replica(self.alias)

    def _guard(self, fn):
        return _unguarded(fn) if self.is_replica else guard_database(fn)

    def ensure_connection(self):
        if not self.is_replica:
            return super().ensure_connection()
        try:
            return super().ensure_connection()
        except DatabaseError as exc:
            db_router.mark_down(self.alias, f"{type(exc).__name__}: {exc}")
            raise db_router.ReplicaUnavailable(self.alias, "cannot connect") from exc

    def get_new_connection(self, conn_params):
        if not self.pool:
            return self._guard(lambda: super(DatabaseWrapper, self).get_new_connection(conn_params))
        self.unchecked = self._may_trust_checkout()
        checkout = self._unchecked_checkout if self.unchecked else self._checked_checkout
        connection = self._guard(checkout)
        isolation_level = self.settings_dict["OPTIONS"].get("isolation_level")
        # The rest is what PostgreSQL's get_new_connection does with a pooled connection.
        self.isolation_level = IsolationLevel(isolation_level or IsolationLevel.READ_COMMITTED)
        if isolation_level is not None:
            connection.isolation_level = self.isolation_level
        # As PostGIS's get_new_connection does with every psycopg 3 connection, once per
        # connection: the adapters stay registered on it while it sits in the pool, and
        # registering them again (new dumper classes each time) cost ~2% of a tile
        # request's Python under load (docs/benchmarks.md "Lean path, per-request cost").
        if connection not in _GEOMETRY_ADAPTED:
            self.register_geometry_adapters(connection)
            _GEOMETRY_ADAPTED.add(connection)
        return connection

    def _may_trust_checkout(self) -> bool:
        if _TRUSTED_DEADLINE.get() is None:
            return False
        if self.is_replica:
            return True  # not behind the breaker; a dead replica is skipped by its probe
        breaker = database_breaker()
        return breaker.current_state == "closed" and not breaker.fail_counter

    def _unchecked_checkout(self) -> psycopg.Connection:
        pool = self.pool
        pool.open()
        return pool.getconn()

    def _checked_checkout(self) -> psycopg.Connection:
        """A pooled connection whose server just answered. Dead ones are discarded and
        the next tried; checks and retries together take at most DB_CONNECT_TIMEOUT (a
        restarted server: new connections come at once; a dead one: none come). A
        failure here is one failure for the breaker."""
        pool, limit = self.pool, float(self.settings_dict["OPTIONS"].get("connect_timeout", 2))
        pool.open()
        # Waiting DB_POOL_TIMEOUT for a free connection is for a busy pool. Once failures
        # are being counted (an outage is suspected), a connection that does not come
        # within a connect timeout is not coming.
        wait = limit if (self.is_replica or database_breaker().fail_counter) else None
        conn = pool.getconn(timeout=wait)
        deadline = time.monotonic() + limit
        while True:
            try:
                _round_trip(conn, max(deadline - time.monotonic(), 0.1))
                return conn
            except psycopg.Error:
                pool.putconn(conn)  # broken: the pool discards it and opens another
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise
                conn = pool.getconn(timeout=remaining)

    @contextlib.contextmanager
    def bounded_reads(self):
        """DB_QUERY_DEADLINE around reads that Django's execute wrappers do not see: a
        server-side cursor's FETCH, the rows of a COPY after its start. Enter it around
        each fetch, not around the time a caller spends with the rows: a paused server
        then fails the fetch as a broken connection (counted for the breaker; a replica
        is marked down) instead of holding a streaming export for ever."""
        deadline = getattr(settings, "DB_QUERY_DEADLINE", 0)
        try:
            with watchdog.bound(self.connection, deadline):
                yield
        except (OperationalError, psycopg.OperationalError) as exc:
            self._judge_failure(exc, broken=_is_broken(self.connection))
            raise

    def _bounded_execute(self, execute, sql, params, many, context):
        deadline = getattr(settings, "DB_QUERY_DEADLINE", 0)
        trusted = self.unchecked and _TRUSTED_DEADLINE.get() is not None
        if trusted:
            first = _TRUSTED_DEADLINE.get() or 0
            deadline = min(deadline, first) if deadline else first
        try:
            with watchdog.bound(self.connection, deadline):
                result = execute(sql, params, many, context)
            self.unchecked = False
            return result
        except OperationalError as exc:
            self.unchecked = False
            # A cancelled statement (lock or statement timeout) is an answer: the server
            # is up. A broken connection is not.
            broken = _is_broken(self.connection)
            if broken and trusted:
                raise StaleConnection(self) from exc
            self._judge_failure(exc, broken=broken)
            raise

    def _judge_failure(self, exc: BaseException, *, broken: bool) -> None:
        """What a failed round trip says about the server. A replica that broke the
        connection (or cancelled for recovery) is marked down or skipped: raises
        ReplicaUnavailable. A primary that broke it is one failure for the breaker. A
        cancelled statement (lock or statement timeout) is an answer: the server is up.
        The caller re-raises `exc` when this returns."""
        if self.is_replica and (broken or _recovery_conflict(exc)):
            if broken:
                db_router.mark_down(self.alias, f"{type(exc).__name__}: {exc}")
            raise db_router.ReplicaUnavailable(self.alias, str(exc)) from exc
        if broken:
            _count_failure(exc)
