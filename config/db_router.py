"""Read replicas: which database a read goes to (docs/scaling.md, "Read replicas").

Each URL of DATABASE_REPLICA_URLS is a database alias (`replica_0`, `replica_1`, ...;
settings.REPLICA_ALIASES). Only anonymous public reads go to a replica:

- a view opts in with `@replica_read` (search, viewport, duplicates, the detail of a
  place, tiles, OGC reads, export). For a GET or HEAD without credentials (no
  Authorization header, no session cookie: config.http_cache.has_credentials) and
  without the read-your-writes cookie below, the view runs with a healthy replica as
  this request's read alias (a context variable). Everything else reads the primary:
  writes, authenticated requests, the admin, tasks, management commands.
- the ORM follows the alias through ReplicaRouter; raw SQL asks `read_alias()` for it
  (locations.selectors.sql, locations.exports). Inside a transaction on the primary the
  read alias is the primary, and writes always go to the primary.

Read-your-writes: every successful write (POST, PUT, PATCH, DELETE answered < 400) sets
a signed cookie (STICKY_COOKIE) that lives REPLICA_STICKY_SECONDS; a request carrying a
valid one reads the primary. Authenticated requests read the primary anyway, so the
cookie matters for a client that writes with its token or session and then reads
anonymously (a browser map, a client that leaves its token off public reads so a CDN may
keep them).

Health: a replica that is down, or whose replay lags more than REPLICA_MAX_LAG_S, is
skipped. Each process keeps a verdict per replica, refreshed in a background thread once
it is older than REPLICA_HEALTH_CHECK_SECONDS, so no request waits for a probe (until a
first verdict exists, reads go to the primary). A replica that fails during a read
(connection refused or broken, a query cancelled by a recovery conflict) raises
ReplicaUnavailable: it is marked down until its next probe and the read runs once more
on the primary.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import random
import threading
import time
from collections.abc import Callable, Iterator
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, TypeVar

import psycopg
from django.conf import settings
from django.core import signing
from django.db import DEFAULT_DB_ALIAS, connections

from config.http_cache import has_credentials

logger = logging.getLogger(__name__)

T = TypeVar("T")

STICKY_COOKIE = "placemap_primary"
_STICKY_SALT = "config.db_router.read-your-writes"
READS = ("GET", "HEAD")

# The alias this request's public reads use; None: the primary.
_read_alias: ContextVar[str | None] = ContextVar("placemap_read_alias", default=None)


class ReplicaUnavailable(Exception):
    """A replica failed during a read. Deliberately not a DatabaseError: neither the
    stale-copy fallback nor the problem handler may take it for a database outage;
    `replica_read` (or `retry_on_primary`) runs the read again on the primary."""

    def __init__(self, alias: str, reason: str):
        super().__init__(f"Replica {alias} failed: {reason}")
        self.alias = alias


def replica_aliases() -> list[str]:
    return list(getattr(settings, "REPLICA_ALIASES", ()))


def is_replica(alias: str) -> bool:
    return alias in replica_aliases()


# --- The read alias -----------------------------------------------------------------------


def read_alias() -> str:
    """The alias the current read should use: this request's replica, or the primary
    (no replica chosen, or inside a transaction on the primary)."""
    alias = _read_alias.get()
    if alias is None or connections[DEFAULT_DB_ALIAS].in_atomic_block:
        return DEFAULT_DB_ALIAS
    return alias


@contextlib.contextmanager
def reading_from(alias: str | None) -> Iterator[None]:
    """Run the block's public reads on `alias` (None or "default": the primary)."""
    token = _read_alias.set(None if alias == DEFAULT_DB_ALIAS else alias)
    try:
        yield
    finally:
        _read_alias.reset(token)


def retry_on_primary(read: Callable[[], T]) -> T:
    """Run `read`; if its replica fails, run it once more on the primary. Inside a
    transaction on that replica the failure is left to the caller (`replica_read` runs
    the whole view again): the transaction could not commit anyway."""
    try:
        return read()
    except ReplicaUnavailable as exc:
        if connections[exc.alias].in_atomic_block:
            raise
        logger.warning("Read failed on %s; retrying it on the primary", exc.alias, exc_info=exc)
    with reading_from(DEFAULT_DB_ALIAS):
        return read()


def streaming_alias(alias: str) -> str:
    """The alias a long server-side cursor (the export) reads `alias` through: the
    primary's direct connection ("direct", DATABASE_DIRECT_URL) when DATABASE_URL is a
    PgBouncer in transaction pooling, where server-side cursors are off."""
    if alias == DEFAULT_DB_ALIAS and getattr(settings, "DATABASE_DIRECT_URL", ""):
        return "direct"
    return alias


# --- Read-your-writes -------------------------------------------------------------------


def _signer() -> signing.TimestampSigner:
    return signing.TimestampSigner(salt=_STICKY_SALT)


def is_sticky(request: Any) -> bool:
    """The request carries a valid read-your-writes cookie (it wrote recently)."""
    value = request.COOKIES.get(STICKY_COOKIE)
    if not value:
        return False
    try:
        _signer().unsign(value, max_age=settings.REPLICA_STICKY_SECONDS)
    except signing.BadSignature:  # forged, or older than REPLICA_STICKY_SECONDS
        return False
    return True


class ReadYourWritesMiddleware:
    """Sets the read-your-writes cookie on every successful write while replicas exist."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if (
            request.method not in ("GET", "HEAD", "OPTIONS", "TRACE")
            and response.status_code < 400
            and replica_aliases()
        ):
            response.set_cookie(
                STICKY_COOKIE,
                _signer().sign("1"),
                max_age=settings.REPLICA_STICKY_SECONDS,
                httponly=True,
                samesite="Lax",
                secure=settings.SESSION_COOKIE_SECURE,
            )
        return response


# --- Routing ----------------------------------------------------------------------------


def public_read_alias(request: Any) -> str:
    """Where an anonymous public read of `request` goes: a healthy replica, else the
    primary (a write, credentials, the read-your-writes cookie, no healthy replica)."""
    if not replica_aliases() or request.method not in READS:
        return DEFAULT_DB_ALIAS
    if has_credentials(request) or is_sticky(request):
        return DEFAULT_DB_ALIAS
    healthy = [alias for alias in replica_aliases() if _usable(alias)]
    return random.choice(healthy) if healthy else DEFAULT_DB_ALIAS  # noqa: S311 (load spread)


def run_public_read(request, read: Callable[[], T], *, retry: Callable[[], T] | None = None) -> T:
    """Run `read` (a whole anonymous public read) on the replica public_read_alias picks
    for `request`; if that replica fails, run it once more on the primary (`retry` if
    given: the same read without what the first run already counted, its throttles)."""
    alias = public_read_alias(request)
    if alias == DEFAULT_DB_ALIAS:
        return read()
    try:
        with reading_from(alias):
            return read()
    except ReplicaUnavailable as exc:
        logger.warning("Read failed on %s; retrying it on the primary", alias, exc_info=exc)
    with reading_from(DEFAULT_DB_ALIAS):
        return (retry or read)()


def _counted(request) -> None:
    """check_throttles for a read run again on the primary: not a second request."""


def replica_read(view_class: type) -> type:
    """Mark a DRF APIView as an anonymous public read: see the module docstring. (The
    lean path's views, locations/api/lean.py, call run_public_read themselves.)"""
    dispatch = view_class.dispatch

    @functools.wraps(dispatch)
    def routed(self, request, *args, **kwargs):
        def once_more():
            # The first run counted this request against its throttles already.
            self.check_throttles = _counted
            return dispatch(self, request, *args, **kwargs)

        return run_public_read(
            request, lambda: dispatch(self, request, *args, **kwargs), retry=once_more
        )

    view_class.dispatch = routed  # type: ignore[attr-defined]
    view_class.replica_read = True  # type: ignore[attr-defined]
    return view_class


class ReplicaRouter:
    """Reads follow the read alias; writes and migrations are the primary's."""

    def db_for_read(self, model, **hints) -> str:
        return read_alias()

    def db_for_write(self, model, **hints) -> str:
        # Explicit: left to Django, an object read from a replica would be saved there.
        return DEFAULT_DB_ALIAS

    def allow_relation(self, obj1, obj2, **hints) -> bool:
        return True  # replicas hold the primary's rows

    def allow_migrate(self, db, app_label, model_name=None, **hints) -> bool:
        # Replicas replay the primary's schema; "direct" is the primary itself.
        return db == DEFAULT_DB_ALIAS


# --- Health -------------------------------------------------------------------------------

# One probe: is it a standby, is its replay caught up with what it received (an idle
# primary sends nothing, so then the lag is 0, whatever the age of the last replayed
# transaction), else how old the last replayed transaction is. Without a WAL receiver
# (the standby lost its primary) nothing proves it is current: the age counts.
PROBE_SQL = """
SELECT pg_is_in_recovery(),
       pg_is_in_recovery()
         AND pg_last_wal_receive_lsn() IS NOT NULL
         AND pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
         AND EXISTS (SELECT FROM pg_stat_wal_receiver),
       EXTRACT(EPOCH FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8
"""


@dataclass(frozen=True)
class ReplicaHealth:
    up: bool
    lag_s: float | None  # None: unknown (down, or nothing replayed yet)
    in_recovery: bool | None
    error: str | None
    checked_at: float  # time.monotonic()

    @property
    def usable(self) -> bool:
        return self.up and self.lag_s is not None and self.lag_s <= settings.REPLICA_MAX_LAG_S

    def as_dict(self) -> dict:
        found: dict = {"up": self.up, "lag_s": self.lag_s, "in_recovery": self.in_recovery}
        found["used"] = self.usable
        if self.error:
            found["error"] = self.error
        return found


_verdicts: dict[str, ReplicaHealth] = {}
_refreshing = threading.Lock()


def _conninfo(alias: str) -> dict:
    params = connections[alias].settings_dict
    return {
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
        "dbname": params["NAME"] or "postgres",
        "user": params["USER"] or None,
        "password": params["PASSWORD"] or None,
        "connect_timeout": int(params["OPTIONS"].get("connect_timeout", 2)),
        "application_name": "placemap-replica-probe",
    }


def conninfos() -> dict[str, dict]:
    """How to reach each replica, read on the calling thread (a probe thread may not see
    the caller's connections)."""
    return {alias: _conninfo(alias) for alias in replica_aliases()}


def probe(info: dict) -> ReplicaHealth:
    """Check one replica now, on a connection of its own (not one of its pooled ones)."""
    try:
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute(f"SET statement_timeout = {info['connect_timeout'] * 1000}")
            in_recovery, caught_up, age = conn.execute(PROBE_SQL).fetchone()  # type: ignore[misc]
    except psycopg.Error as exc:
        return ReplicaHealth(False, None, None, f"{type(exc).__name__}: {exc}"[:300], _now())
    lag = 0.0 if (not in_recovery or caught_up) else (None if age is None else max(0.0, age))
    return ReplicaHealth(True, lag, in_recovery, None, _now())


def refresh_health(infos: dict[str, dict] | None = None) -> dict[str, ReplicaHealth]:
    """Probe every replica now (tests, /ready) and keep the verdicts."""
    infos = conninfos() if infos is None else infos
    for alias, info in infos.items():
        _verdicts[alias] = probe(info)
    return {alias: _verdicts[alias] for alias in infos}


def health(alias: str) -> ReplicaHealth | None:
    """The kept verdict (None before the first probe); starts a probe in the background
    when it is older than REPLICA_HEALTH_CHECK_SECONDS."""
    verdict = _verdicts.get(alias)
    if verdict is None or _now() - verdict.checked_at >= settings.REPLICA_HEALTH_CHECK_SECONDS:
        _refresh_in_background()
    return verdict


def mark_down(alias: str, reason: str) -> None:
    """Skip `alias` until its next probe (a read just failed on it)."""
    _verdicts[alias] = ReplicaHealth(False, None, None, reason[:300], _now())


def forget_health() -> None:
    """Drop every verdict (tests)."""
    _verdicts.clear()


def _usable(alias: str) -> bool:
    verdict = health(alias)
    return verdict is not None and verdict.usable


def _now() -> float:
    return time.monotonic()


def _refresh_in_background() -> None:
    if not _refreshing.acquire(blocking=False):
        return  # one probe round at a time per process
    infos = conninfos()

    def run() -> None:
        try:
            refresh_health(infos)
        except Exception:  # a probe thread must not die loudly; the next read retries
            logger.exception("Replica health probe failed")
        finally:
            _refreshing.release()

    threading.Thread(target=run, name="replica-health", daemon=True).start()


def replica_report(infos: dict[str, dict]) -> dict:
    """/ready's `replicas` check: every replica probed now and reported."""
    found = refresh_health(infos)
    return {"replicas": {alias: verdict.as_dict() for alias, verdict in found.items()}}
