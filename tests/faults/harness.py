"""Throwaway dependencies for the fault tests: a PostgreSQL cluster (initdb/pg_ctl as the
postgres user), a redis-server and a moto S3 server, each on a free loopback port in a
temporary directory, which a test may pause (SIGSTOP), kill and restart; and a small
mixed load of API clients. Nothing here touches the shared services."""

import contextlib
import io
import json
import os
import shutil
import signal
import subprocess
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

from tests.support import BASE_DIR, BIN_DIR, free_port, kill_group, port_is_open, wait_for


def _pg_bin() -> Path:
    majors = sorted(Path("/usr/lib/postgresql").iterdir(), key=lambda p: int(p.name))
    return majors[-1] / "bin"


def _as_postgres(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        ["runuser", "-u", "postgres", "--", *command],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # The field after the parenthesised command name is the state, then the ppid.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return found


class Postgres:
    """A private PostgreSQL cluster with PostGIS; trust authentication on loopback."""

    def __init__(self, root: Path):
        self.dir = root / "pg"
        self.log = root / "pg.log"
        self.port = free_port()
        self.bin = _pg_bin()

    @property
    def url(self) -> str:
        return f"postgis://placemap:placemap@127.0.0.1:{self.port}/placemap"

    def init(self) -> None:
        self.dir.mkdir()
        shutil.chown(self.dir, "postgres", "postgres")
        self.log.touch()
        shutil.chown(self.log, "postgres", "postgres")
        result = _as_postgres(
            str(self.bin / "initdb"), "-D", str(self.dir), "-A", "trust", "-U", "postgres"
        )
        assert result.returncode == 0, result.stderr
        self.start()
        self.psql("CREATE ROLE placemap LOGIN SUPERUSER PASSWORD 'placemap'")
        self.psql("CREATE DATABASE placemap OWNER placemap")
        self.psql("CREATE EXTENSION postgis", db="placemap")

    def start(self) -> None:
        options = (
            f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off "
            "-c full_page_writes=off -c max_connections=60"
        )
        result = _as_postgres(
            str(self.bin / "pg_ctl"), "start", "-w", "-t", "60", "-D", str(self.dir),
            "-l", str(self.log), "-o", options,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr + self.log.read_text()

    def psql(self, sql: str, *, db: str = "postgres") -> str:
        result = _as_postgres(
            str(self.bin / "psql"), "-h", str(self.dir), "-p", str(self.port), "-d", db,
            "-v", "ON_ERROR_STOP=1", "-At", "-c", sql,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def pids(self) -> list[int]:
        try:
            postmaster = int((self.dir / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return []
        return [postmaster, *_children(postmaster)]

    def _signal_all(self, sig: int) -> None:
        for pid in self.pids():
            # A backend may exit between listing and signalling.
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)

    def pause(self) -> None:
        self._signal_all(signal.SIGSTOP)

    def resume(self) -> None:
        self._signal_all(signal.SIGCONT)

    def kill(self) -> None:
        """A crash: SIGKILL the postmaster and every backend; the next start recovers."""
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGCONT)
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        wait_for(lambda: not port_is_open(self.port), timeout=10, what="postgres to die")
        (self.dir / "postmaster.pid").unlink(missing_ok=True)

    def ensure_running(self) -> None:
        self.resume()
        if not port_is_open(self.port):
            (self.dir / "postmaster.pid").unlink(missing_ok=True)
            self.start()

    def stop(self) -> None:
        self.resume()
        _as_postgres(str(self.bin / "pg_ctl"), "stop", "-m", "immediate", "-D", str(self.dir))
        for pid in self.pids():
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)


class Daemon:
    """A child process in its own process group on a fixed port (kept across restarts)."""

    def __init__(self, root: Path, name: str, command: list[str]):
        self.name = name
        self.log = root / f"{name}.log"
        self.command = command
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                self.command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        wait_for(lambda: port_is_open(self.port), timeout=30, what=f"{self.name} to listen")

    def pause(self) -> None:
        os.killpg(self.process.pid, signal.SIGSTOP)

    def resume(self) -> None:
        os.killpg(self.process.pid, signal.SIGCONT)

    def kill(self) -> None:
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)
        wait_for(lambda: not port_is_open(self.port), timeout=10, what=f"{self.name} to die")

    def ensure_running(self) -> bool:
        """Resume it, or start it again if it is dead; True if it was restarted."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                self.resume()
            return False
        self.start()
        return True

    def stop(self) -> None:
        kill_group(self.process, timeout=5)


class Redis(Daemon):
    def __init__(self, root: Path):
        self.port = free_port()
        super().__init__(
            root,
            "redis",
            ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(root)],
        )  # fmt: skip

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"


class S3(Daemon):
    """moto's S3 server. It keeps everything in memory: after a restart the bucket is
    created again, as a MinIO's data would still be there."""

    def __init__(self, root: Path):
        self.port = free_port()
        super().__init__(
            root, "s3", [str(BIN_DIR / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)]
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


# --- HTTP clients ---------------------------------------------------------------------


@dataclass
class Answer:
    kind: str
    status: int | None  # None: no answer (connection refused, timeout)
    headers: dict = field(default_factory=dict)
    body: bytes = b""
    elapsed: float = 0.0
    error: str = ""
    started: float = 0.0

    def json(self):
        return json.loads(self.body)

    def describe(self) -> str:
        return (
            f"{self.kind}: {self.status or self.error} after {self.elapsed:.1f}s "
            f"{self.headers.get('content-type', '')} {self.body[:300]!r}"
        )


def call(
    base: str,
    method: str,
    path: str,
    *,
    kind: str = "",
    token: str | None = None,
    json_body=None,
    body: bytes | None = None,
    headers: dict | None = None,
    timeout: float = 30,
) -> Answer:
    headers = dict(headers or {})
    if token:
        headers["Authorization"] = f"Token {token}"
    started = time.monotonic()
    answer = Answer(kind=kind or f"{method} {path}", status=None, started=started)
    try:
        response = requests.request(
            method, base + path, data=body, json=json_body, headers=headers, timeout=timeout
        )
    except requests.RequestException as exc:
        answer.error = f"{type(exc).__name__}: {exc}"
    else:
        answer.status, answer.body = response.status_code, response.content
        answer.headers = {k.lower(): v for k, v in response.headers.items()}
    answer.elapsed = time.monotonic() - started
    return answer


def tiny_png() -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new("RGB", (32, 24), (200, 120, 40)).save(buffer, "PNG")
    return buffer.getvalue()


def multipart(fields: dict[str, str], files: dict[str, tuple[str, bytes, str]]):
    boundary = uuid.uuid4().hex
    parts = []
    for name, value in fields.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for name, (filename, data, content_type) in files.items():
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"; '
            f'filename="{filename}"\r\nContent-Type: {content_type}\r\n\r\n'.encode()
            + data
            + b"\r\n"
        )
    parts.append(f"--{boundary}--\r\n".encode())
    return b"".join(parts), f"multipart/form-data; boundary={boundary}"


# Queries whose answers are cached before an outage (the stale copy they may be served).
WARM_SEARCH = "/api/v1/locations/search?lat=48.85&lon=2.35&radius=5000"
WARM_VIEWPORT = "/api/v1/locations/viewport?bbox=2.0,48.5,2.7,49.2"


class Load:
    """A small mixed load on a few threads: submissions with an Idempotency-Key, photo
    uploads, searches and viewports (the warmed ones), approvals by a moderator."""

    def __init__(self, base: str, *, user: str, moderator: str, png: bytes):
        self.base, self.user, self.moderator, self.png = base, user, moderator, png
        self.answers: list[Answer] = []
        self.submissions: dict[str, list[Answer]] = {}  # Idempotency-Key -> its answers
        self.created: list[str] = []
        self.images: list[str] = []
        self.approved: list[str] = []
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    def _record(self, answer: Answer) -> Answer:
        with self._lock:
            self.answers.append(answer)
        return answer

    def submit(self, key: str | None = None) -> Answer:
        key = key or uuid.uuid4().hex
        answer = self._record(
            call(
                self.base,
                "POST",
                "/api/v1/locations",
                kind="submit",
                token=self.user,
                headers={"Idempotency-Key": key},
                json_body={
                    "name": f"Fault place {key}",
                    "description": "submitted under a fault",
                    "category": "cafe",
                    "latitude": 48.86,
                    "longitude": 2.34,
                },
            )
        )
        with self._lock:
            self.submissions.setdefault(key, []).append(answer)
            if answer.status == 201:
                self.created.append(answer.json()["id"])
        return answer

    def upload(self) -> Answer:
        body, content_type = multipart({}, {"file": ("p.png", self.png, "image/png")})
        answer = self._record(
            call(
                self.base,
                "POST",
                "/api/v1/images/upload",
                kind="upload",
                token=self.user,
                body=body,
                headers={"Content-Type": content_type},
            )
        )
        if answer.status == 201:
            with self._lock:
                self.images.append(answer.json()["id"])
        return answer

    def approve_one(self) -> Answer | None:
        with self._lock:
            pending = [pid for pid in self.created if pid not in self.approved]
        if not pending:
            return None
        answer = self._record(
            call(
                self.base,
                "PATCH",
                f"/api/v1/admin/locations/{pending[0]}/status",
                kind="approve",
                token=self.moderator,
                json_body={"status": "approved"},
            )
        )
        if answer.status in (200, 409):
            with self._lock:
                self.approved.append(pending[0])
        return answer

    def read(self, path: str, kind: str) -> Answer:
        return self._record(call(self.base, "GET", path, kind=kind))

    def _writer(self) -> None:
        while not self._stop.is_set():
            self.submit()
            self.upload()
            self.approve_one()
            self._stop.wait(0.3)

    def _reader(self) -> None:
        while not self._stop.is_set():
            self.read(WARM_SEARCH, "search")
            self.read(WARM_VIEWPORT, "viewport")
            self._stop.wait(0.2)

    def start(self) -> "Load":
        self._stop.clear()
        self._threads = [
            threading.Thread(target=t, daemon=True) for t in (self._writer, self._reader)
        ]
        for thread in self._threads:
            thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=60)

    def since(self, moment: float) -> list[Answer]:
        with self._lock:
            return [a for a in self.answers if a.started >= moment]


def run_python(env: dict[str, str], code: str) -> str:
    result = subprocess.run(
        [str(BIN_DIR / "python"), "-c", code],
        cwd=BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout
