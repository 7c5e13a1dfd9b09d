import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from media_store import storage

UPLOAD_URL = "/api/v1/images/upload"
MOTO_SERVER = Path(sys.executable).parent / "moto_server"


def _breaker_keys(client: redis.Redis, namespace: str) -> list:
    return list(client.scan_iter(match=f"{namespace}:pybreaker:*", count=100))


@pytest.fixture(autouse=True)
def closed_breaker():
    """Every test starts (and leaves) the shared storage breaker closed and at zero."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)

    def reset():
        keys = _breaker_keys(client, django_settings.STORAGE_BREAKER_NAMESPACE)
        if keys:
            client.delete(*keys)

    reset()
    yield
    reset()
    client.close()


@pytest.fixture
def bucket_keys():
    """The keys under images/ in the test bucket, read over HTTP."""

    def keys() -> set[str]:
        return {obj["Key"] for obj in storage.iter_objects(prefix="images/")}

    return keys


@pytest.fixture
def upload(user_client):
    """POST a file to /images/upload as `user`; returns the response."""

    def post(
        data: bytes,
        name: str = "photo.jpg",
        content_type: str = "image/jpeg",
        client=None,
        **fields,
    ):
        payload = {"file": SimpleUploadedFile(name, data, content_type=content_type), **fields}
        return (client or user_client).post(UPLOAD_URL, payload, format="multipart")

    return post


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class MotoServer:
    """A private moto S3 server that a test can stop and start again on the same port."""

    def __init__(self, port: int, log: Path):
        self.port = port
        self.log = log
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.1)
        raise RuntimeError(f"moto_server did not start on {self.port}")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)


@pytest.fixture
def private_moto(tmp_path):
    server = MotoServer(free_port(), tmp_path / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def celery_worker_process(transactional_db, tmp_path):
    """A real `celery -A config worker` process on this test database, Redis and bucket.

    Requests transactional_db so rows are committed (visible to the worker) and so the
    worker is stopped before the tables are flushed."""
    from django.db import connection

    from config.celery import app
    from media_store.tasks import make_thumbnails

    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        "DATABASE_URL": (
            f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"
        ),
        "PYTHONUNBUFFERED": "1",
    }
    queue = app.amqp.router.route({}, make_thumbnails.name, args=(), kwargs={})["queue"].name
    log_path = tmp_path / "worker.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [
                str(Path(sys.executable).parent / "celery"),
                "-A",
                "config",
                "worker",
                "--pool=solo",
                "--queues",
                queue,
                "--hostname",
                f"photos-test-{os.getpid()}@%h",
                "--without-gossip",
                "--without-mingle",
                "--without-heartbeat",
                "--purge",  # stale messages of earlier runs on this test broker
                "--loglevel=INFO",
            ],
            cwd=django_settings.BASE_DIR,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 90
        while b" ready." not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("celery worker did not start:\n" + log_path.read_text())
            time.sleep(0.2)
        yield log_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
