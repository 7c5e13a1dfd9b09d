import io
import json
import logging
import os
import signal
import subprocess
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connections
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from config import telemetry
from config.logging import build_formatter

BASE_DIR = Path(settings.BASE_DIR)
CELERY = BASE_DIR / ".venv" / "bin" / "celery"
# Keys kombu's Redis transport keeps for the default queue and unacknowledged messages.
BROKER_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex")


class CapturedLogs:
    """Everything the root logger writes, rendered by Placemap's own JSON formatter."""

    def __init__(self):
        self.stream = io.StringIO()
        self.handler = logging.StreamHandler(self.stream)
        self.handler.setFormatter(build_formatter("json"))

    def attach(self) -> None:
        root = logging.getLogger()
        if self.handler not in root.handlers:
            root.addHandler(self.handler)
        # DEBUG: a secret must not leak even from a line that production filters out.
        root.setLevel(logging.DEBUG)

    def detach(self, level: int) -> None:
        logging.getLogger().removeHandler(self.handler)
        logging.getLogger().setLevel(level)

    @property
    def text(self) -> str:
        return self.stream.getvalue()

    def lines(self) -> list[dict]:
        # json.loads on each line also proves "one JSON object per line".
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def events(self, event: str) -> list[dict]:
        return [line for line in self.lines() if line.get("event") == event]


@pytest.fixture
def logs() -> Iterator[CapturedLogs]:
    previous_level = logging.getLogger().level
    captured = CapturedLogs()
    captured.attach()
    yield captured
    captured.detach(previous_level)


@pytest.fixture(scope="session")
def span_exporter() -> InMemorySpanExporter:
    """One provider for the session (OpenTelemetry allows setting the global once)."""
    exporter = InMemorySpanExporter()
    provider = telemetry.build_tracer_provider(component="web", span_exporter=exporter)
    trace.set_tracer_provider(provider)
    return exporter


@pytest.fixture
def spans(span_exporter, transactional_db) -> Iterator[InMemorySpanExporter]:
    """Django, psycopg, Redis, botocore and Celery instrumented for one test.

    Transactional: psycopg is traced from the connection up, so the test closes the
    connection opened before instrumentation; an atomic test could not. Request fixtures
    that write (users) before this one, or their SQL lands among the spans."""
    provider = trace.get_tracer_provider()
    telemetry.instrument(provider, component="web")
    connections.close_all()
    span_exporter.clear()
    yield span_exporter
    telemetry.uninstrument()
    connections.close_all()
    span_exporter.clear()


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """This run's own broker database, its queue emptied before and after."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(*BROKER_KEYS)
    yield client
    client.delete(*BROKER_KEYS)


def wait_for(condition: Callable[[], object], *, timeout: float, what: str) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}")


def this_run_database_url() -> str:
    db = connections["default"].settings_dict
    return (
        f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def child_env(**overrides: str) -> dict[str, str]:
    """A child process on this run's database, Redis and bucket, with no OTEL_* or LOG_*
    from the outer environment unless the test sets them."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "LOG_", "DJANGO_SETTINGS_MODULE"))
    }
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=this_run_database_url(),
        TEST_REDIS_URL=settings.REDIS_URL,
        TEST_BUCKET=settings.AWS_STORAGE_BUCKET_NAME,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


class Worker:
    """A real `celery worker` (prefork, one child) on this run's broker, stdout to a file."""

    def __init__(self, log_path: Path, env: dict[str, str]):
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> "Worker":
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--hostname",
                f"obs-test-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        wait_for(
            lambda: b" ready." in self.log_path.read_bytes() or self.process.poll() is not None,
            timeout=60,
            what="the worker to be ready",
        )
        assert self.process.poll() is None, self.log_path.read_text()
        return self

    def json_lines(self) -> list[dict]:
        lines = []
        for raw in self.log_path.read_text().splitlines():
            # The console span exporter prints indented multi-line JSON: skip its lines.
            if raw.startswith("{") and raw.endswith("}"):
                lines.append(json.loads(raw))
        return lines

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        self.log_file.close()


@pytest.fixture
def worker_factory(tmp_path, broker) -> Iterator[Callable[..., Worker]]:
    started: list[Worker] = []

    def start(**env: str) -> Worker:
        worker = Worker(tmp_path / f"worker-{len(started)}.log", child_env(**env)).start()
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
