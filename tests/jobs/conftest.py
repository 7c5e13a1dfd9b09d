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
from django.db import connection

from tests.jobs import worker_tasks

BASE_DIR = Path(settings.BASE_DIR)
CELERY = BASE_DIR / ".venv" / "bin" / "celery"
# Keys kombu's Redis transport keeps for the default queue and unacknowledged messages.
BROKER_KEYS = ("celery", "unacked", "unacked_index", "unacked_mutex")


@pytest.fixture
def token() -> str:
    return uuid.uuid4().hex


@pytest.fixture
def broker() -> Iterator[redis.Redis]:
    """The test broker (this run's own Redis database), its queue emptied before and
    after: messages left by earlier tests must not reach a worker started here."""
    client = redis.Redis.from_url(settings.CELERY_BROKER_URL)
    client.delete(*BROKER_KEYS)
    yield client
    client.delete(*BROKER_KEYS)


def wait_for(
    condition: Callable[[], object],
    *,
    timeout: float,
    what: str,
    log: Callable[[], str] | None = None,
) -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    details = f"; worker log:\n{log()}" if log is not None else ""
    raise AssertionError(f"Timed out after {timeout}s waiting for {what}{details}")


def counter(token: str, name: str) -> int:
    return int(worker_tasks.state().get(worker_tasks.key(token, name)) or 0)


def this_run_database_url() -> str:
    db = connection.settings_dict
    return (
        f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db['NAME']}"
    )


def subprocess_env(**overrides: str) -> dict[str, str]:
    """Environment for a child process that uses the same test database and Redis."""
    env = dict(os.environ)
    env.update(
        DJANGO_SETTINGS_MODULE="config.settings.test",
        DATABASE_URL=this_run_database_url(),
        TEST_REDIS_URL=settings.REDIS_URL,
        TEST_BUCKET=settings.AWS_STORAGE_BUCKET_NAME,
        PYTHONUNBUFFERED="1",
    )
    env.update(overrides)
    return env


class WorkerProcess:
    """A real `celery worker` subprocess (prefork, one child) on the test broker."""

    def __init__(self, log_path: Path, env: dict[str, str]):
        self.log_path = log_path
        self.env = env
        self.process: subprocess.Popen | None = None

    def start(self) -> "WorkerProcess":
        self.log_file = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [
                str(CELERY),
                "-A",
                "config",
                "worker",
                "-l",
                "info",
                "--pool",
                "prefork",
                "--concurrency",
                "1",
                "--include",
                "tests.jobs.worker_tasks",
                "--hostname",
                f"jobs-test-{uuid.uuid4().hex[:8]}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
            ],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self.log_file,
            stderr=subprocess.STDOUT,
            # Its own process group, so a SIGKILL reaches the pool children too.
            start_new_session=True,
        )
        wait_for(
            lambda: b" ready." in self.log_path.read_bytes() or self.process.poll() is not None,
            timeout=60,
            what="the worker to be ready",
        )
        assert self.process.poll() is None, self.log_path.read_text()
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
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait(timeout=10)
        if hasattr(self, "log_file"):
            self.log_file.close()

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")


@pytest.fixture
def start_worker(transactional_db, broker, tmp_path) -> Iterator[Callable[..., WorkerProcess]]:
    """Start real workers on the test database and broker; `env` adds settings
    (JOBS_MAX_ATTEMPTS=3 ...). Every worker started is stopped at the end."""
    workers: list[WorkerProcess] = []

    def start(**env: str) -> WorkerProcess:
        worker = WorkerProcess(tmp_path / f"worker-{len(workers)}.log", subprocess_env(**env))
        workers.append(worker)
        return worker.start()

    yield start
    for worker in workers:
        worker.stop()
