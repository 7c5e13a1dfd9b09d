import os
import subprocess
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile

from media_store import storage
from tests.support import BIN_DIR, free_port, port_is_open, stop_process, wait_for

UPLOAD_URL = "/api/v1/images/upload"


def _breaker_keys(client: redis.Redis, namespace: str) -> list:
    return list(client.scan_iter(match=f"{namespace}:pybreaker:*", count=100))


@pytest.fixture(autouse=True)
def closed_breaker():
    """Every test starts (and leaves) the shared storage breaker closed and at zero."""
    client = redis.Redis.from_url(django_settings.CACHE_REDIS_URL)

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
                [str(BIN_DIR / "moto_server"), "-H", "127.0.0.1", "-p", str(self.port)],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        wait_for(
            lambda: port_is_open(self.port),
            timeout=20,
            what=f"moto_server to listen on {self.port}",
            log=self.log.read_text,
        )

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
def private_moto(tmp_path):
    server = MotoServer(free_port(), tmp_path / "moto.log")
    server.start()
    yield server
    server.stop()


@pytest.fixture
def celery_worker_process(celery_workers):
    """A real `celery -A config worker` process (solo pool) on this test database, Redis
    and bucket, consuming the thumbnails queue; the fixture's value is its log file.

    celery_workers requests transactional_db, so rows are committed (visible to the worker)
    and the worker is stopped before the tables are flushed."""
    from config.celery import app
    from media_store.tasks import make_thumbnails

    queue = app.amqp.router.route({}, make_thumbnails.name, args=(), kwargs={})["queue"].name
    worker = celery_workers(
        hostname=f"photos-test-{os.getpid()}@%h",
        pool="solo",
        loglevel="INFO",
        # --purge: stale messages of earlier runs on this test broker.
        extra_args=["--queues", queue, "--purge"],
        ready_timeout=90,
        stop_timeout=20,
    )
    return worker.log_path
