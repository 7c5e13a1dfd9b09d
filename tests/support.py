"""Test support shared by several areas: child processes (a Celery worker, a fresh
interpreter, a server) on this run's own test database, Redis and bucket; polling waits;
a listener on the live map feed. Fixtures built on these live in tests/conftest.py (shared)
or in an area's own conftest.py."""

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterable
from pathlib import Path

import psycopg
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import connection, connections
from django.test import Client
from rest_framework.test import APIClient

from locations import feed

BASE_DIR = Path(settings.BASE_DIR)
BIN_DIR = Path(sys.executable).parent


def free_port() -> int:
    """A loopback port nothing listens on: bound, then released for the next moments.
    Also what a test wants for "a service that is down" (a closed port)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_database_url() -> str:
    """DATABASE_URL of this run's test database (pytest-django's, not the dev one)."""
    db = connections["default"].settings_dict
    return (
        f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


test_database_url.__test__ = False  # a helper, not a test, wherever it is imported


def other_session(**options) -> psycopg.Connection:
    """A second PostgreSQL session on the test database (another client: a lock holder,
    an observer), outside Django's connection handling. `options` go to psycopg.connect
    (autocommit=True, dbname="postgres", ...)."""
    db = connections["default"].settings_dict
    params = {
        "host": db["HOST"] or "127.0.0.1",
        "port": db["PORT"] or 5432,
        "dbname": db["NAME"],
        "user": db["USER"],
        "password": db["PASSWORD"],
    }
    return psycopg.connect(**{**params, **options})


def child_env(**overrides: str) -> dict[str, str]:
    """Environment of a child process on this run's database, Redis and bucket.

    No OTEL_* or LOG_* from the outer environment unless the test sets them: a developer's
    tracing or log settings must not change what a child prints."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "LOG_", "DJANGO_SETTINGS_MODULE"))
        # The names derived from the xdist worker are passed as they are (below).
        and key != "PYTEST_XDIST_WORKER"
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=test_database_url(),
        TEST_REDIS_URL=settings.REDIS_URL,
        TEST_BUCKET=settings.AWS_STORAGE_BUCKET_NAME,
        TEST_KEY_PREFIX=settings.TEST_KEY_PREFIX,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


def broker_key(name: str) -> str:
    """The Redis key of the broker's `name` (a queue, "unacked"): kombu prefixes them in
    an xdist worker (config/settings/test.py)."""
    return settings.CELERY_BROKER_TRANSPORT_OPTIONS.get("global_keyprefix", "") + name


def wait_for(
    condition: Callable[[], object],
    *,
    timeout: float,
    what: str,
    log: Callable[[], str] | None = None,
) -> object:
    """Poll `condition` until it returns something truthy (returned); fail after `timeout`
    seconds naming `what`, with the output of `log` (a child's log) if given."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    details = f"; log:\n{log()}" if log is not None else ""
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}{details}")


def port_is_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
    except OSError:
        return False
    return True


def stop_process(process: subprocess.Popen | None, *, timeout: float = 10) -> None:
    """Terminate a child, and kill it if it has not exited after `timeout` seconds."""
    if process is None or process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def run_python(code: str, **env: str) -> str:
    """Run `code` in a fresh interpreter (the real start-up path) with child_env(**env);
    its stdout. Fails with the child's stderr if it exits with an error."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=BASE_DIR,
        env=child_env(**env),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


PROBLEM_JSON = "application/problem+json"


def assert_problem(response, status: int, *, field: str | None = None) -> dict:
    """Assert that `response` is an RFC 9457 problem (docs/architecture.md, "Errors") with
    `status`, and, given `field`, a validation problem naming it (in `errors`, where a list
    item is named with its index, "image_ids.0", and in `detail`). Returns the body."""
    assert response.status_code == status, response.content
    assert response["Content-Type"] == PROBLEM_JSON
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"].startswith("https://")
    assert body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    if field is not None:
        named = [
            name
            for name in body.get("errors", {})
            if name == field or (name.startswith(f"{field}.") and name[len(field) + 1 :].isdigit())
        ]
        assert named, body
        assert field in body["detail"], body
    return body


def authenticated_client(user) -> APIClient:
    """An API client authenticated as `user` (no login round trip)."""
    client = APIClient()
    client.force_authenticate(user)
    return client


def logged_in(user) -> Client:
    """A browser (Django test client) with `user`'s session, as for the admin."""
    client = Client()
    client.force_login(user)
    return client


class WebServer:
    """A real web server (`python -m config.server`, as production starts it) on a free
    loopback port, its output in a log file. Pages served from its own origin may open
    the live feed."""

    def __init__(self, log_path: Path, env: dict[str, str], *, other_origins: Iterable[str] = ()):
        self.log_path = log_path
        self.port = free_port()
        self.origin = f"http://127.0.0.1:{self.port}"
        self.env = child_env(WS_ALLOWED_ORIGINS=",".join([self.origin, *other_origins]), **env)
        self.process: subprocess.Popen | None = None
        self.log_file = None

    def start(self) -> "WebServer":
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "config.server",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            wait_for(self._serves_health, timeout=30, what="the web server", log=self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def _serves_health(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"the web server exited:\n{self.log()}")
        try:
            # An http:// URL we built ourselves (S310 guards against file: and others).
            with urllib.request.urlopen(f"{self.origin}/health", timeout=1) as response:  # noqa: S310
                return response.status == 200
        except OSError:
            return False

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        stop_process(self.process)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None


class CeleryWorker:
    """A real `celery -A config worker` subprocess (prefork, one child by default) on this
    run's broker, its output in a log file.

    It runs in its own process group, so that kill() (SIGKILL, as the OOM killer would)
    reaches the pool children too and nothing is acknowledged or handed back."""

    def __init__(
        self,
        log_path: Path,
        env: dict[str, str],
        *,
        hostname: str,
        include: Iterable[str] = (),
        extra_args: Iterable[str] = (),
        pool: str = "prefork",
        loglevel: str | None = None,
        ready_timeout: float = 60,
        stop_timeout: float = 15,
    ):
        self.log_path = log_path
        self.env = env
        self.command = [
            str(BIN_DIR / "celery"),
            "-A",
            "config",
            "worker",
            *(["--loglevel", loglevel] if loglevel else []),
            "--pool",
            pool,
            "--concurrency",
            "1",
            *(arg for module in include for arg in ("--include", module)),
            "--hostname",
            hostname,
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            *extra_args,
        ]
        self.ready_timeout = ready_timeout
        self.stop_timeout = stop_timeout
        self.process: subprocess.Popen | None = None
        self.log_file = None

    def start(self) -> "CeleryWorker":
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            self.command,
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(
                lambda: b" ready." in self.log_path.read_bytes() or self.process.poll() is not None,
                timeout=self.ready_timeout,
                what="the worker to be ready",
                log=self.log,
            )
            assert self.process.poll() is None, self.log()
        except BaseException:
            self.stop()
            raise
        return self

    def kill(self) -> None:
        """SIGKILL the worker and its pool children: no shutdown, nothing acknowledged."""
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            # Warm shutdown first (lets it hand back messages), then make sure.
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=self.stop_timeout)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.log_file is not None:
            self.log_file.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def json_lines(self) -> list[dict]:
        """The one-line JSON objects of its log (LOG_FORMAT=json)."""
        lines = []
        for raw in self.log().splitlines():
            # The console span exporter prints indented multi-line JSON: skip its lines.
            if raw.startswith("{") and raw.endswith("}"):
                lines.append(json.loads(raw))
        return lines


class MapFeedListener:
    """A member of the live feed's channel-layer group (real Redis), as a map client's
    consumer is."""

    def __init__(self):
        self.layer = get_channel_layer()
        self.channel = async_to_sync(self.layer.new_channel)()
        async_to_sync(self.layer.group_add)(feed.MAP_GROUP, self.channel)

    def receive(self, timeout: float = 2.0) -> dict:
        async def _receive():
            return await asyncio.wait_for(self.layer.receive(self.channel), timeout)

        return async_to_sync(_receive)()

    def received_nothing(self, timeout: float = 0.3) -> bool:
        try:
            self.receive(timeout=timeout)
        except TimeoutError:
            return True
        return False

    def close(self):
        async_to_sync(self.layer.group_discard)(feed.MAP_GROUP, self.channel)


class ServerProcess:
    """A real web server (`python -m config.server`, as production starts it) on a free
    loopback port, in its own process group, its output in a log file. For suites that run Placemap against
    dependencies of their own (tests/fuzz, tests/faults) rather than pytest's test database."""

    def __init__(self, log_path: Path, env: dict[str, str], *, port: int | None = None):
        self.log_path = log_path
        self.env = env
        self.port = port or free_port()
        self.process: subprocess.Popen | None = None
        self.log_file = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout: float = 60) -> "ServerProcess":
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "config.server",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--log-level",
                "warning",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            wait_for(self._serves_health, timeout=timeout, what="uvicorn /health", log=self.log)
        except BaseException:
            self.stop()
            raise
        return self

    def _serves_health(self) -> bool:
        if self.process.poll() is not None:
            raise AssertionError(f"uvicorn exited ({self.process.returncode}):\n{self.log()}")
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(
                    b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"
                )
                return sock.recv(64).startswith(b"HTTP/1.1 200")
        except OSError:
            return False

    def alive(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def stop(self) -> None:
        kill_group(self.process)
        if self.log_file is not None:
            self.log_file.close()
            self.log_file = None

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""


def kill_group(process: subprocess.Popen | None, *, timeout: float = 10) -> None:
    """Stop a child started with start_new_session=True and everything it started:
    SIGTERM to its process group (SIGCONT first, in case a test left it paused), SIGKILL
    after `timeout` seconds."""
    if process is None:
        return
    for sig in (signal.SIGCONT, signal.SIGTERM):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            break
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout=timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    if process.poll() is None:
        process.wait(timeout=timeout)


def compile_messages() -> list[Path] | None:
    """Compile every app's django.po whose .mo is missing or older (what `manage.py
    compilemessages` in .ci/setup.sh does, without walking the whole tree). Returns the
    catalogs compiled now, or None when msgfmt (Debian `gettext`) is not installed."""
    import shutil

    msgfmt = shutil.which("msgfmt")
    root = Path(settings.BASE_DIR)
    compiled: list[Path] = []
    for po in sorted(root.glob("*/locale/*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        if msgfmt is None:
            return None
        # Into a temporary name first: a concurrent run never reads half a catalog.
        partial = mo.with_suffix(f".mo.{os.getpid()}")
        subprocess.run([msgfmt, "--check-format", "-o", str(partial), str(po)], check=True)
        partial.replace(mo)
        compiled.append(po)
    return compiled


def fail_inserts_of(table: str, *, name: str) -> None:
    """Make PostgreSQL itself fail the import (a real error mid-merge): a temporary
    trigger raising on the insert into `table` of the row named `name`."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            CREATE FUNCTION pg_temp.fail_import() RETURNS trigger LANGUAGE plpgsql AS $$
            BEGIN
                IF NEW.name = '{name}' THEN RAISE EXCEPTION 'disk full, say'; END IF;
                RETURN NEW;
            END $$;
            CREATE TRIGGER fail_import BEFORE INSERT ON {table}
                FOR EACH ROW EXECUTE FUNCTION pg_temp.fail_import();
            """
        )
