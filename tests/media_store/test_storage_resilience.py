"""The storage client under failure: real HTTP endpoints that fail, stall or vanish."""

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from botocore.exceptions import ClientError

from jobs.models import OutboxMessage
from media_store import storage
from media_store.models import Image
from tests.locations.factories import LocationFactory
from tests.media_store import samples
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def fast_storage_policy(settings):
    settings.STORAGE_RETRY_ATTEMPTS = 3
    settings.STORAGE_RETRY_WAIT_INITIAL = 0.01
    settings.STORAGE_RETRY_WAIT_MAX = 0.05
    settings.STORAGE_BREAKER_FAIL_MAX = 3
    settings.STORAGE_BREAKER_RESET_TIMEOUT = 2
    return settings


class ErrorS3:
    """An HTTP endpoint answering every request with one S3 error, counting requests."""

    def __init__(self, status: int, code: str):
        self.requests = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"  # answers boto's "Expect: 100-continue"

            def _answer(self):
                outer.requests += 1
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                body = f"<Error><Code>{code}</Code><Message>test</Message></Error>".encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self):
        self.thread.start()
        return self

    def __exit__(self, *exc):
        self.server.shutdown()
        self.server.server_close()


def test_throttling_is_retried_with_backoff_then_reported_unavailable(fast_storage_policy):
    with ErrorS3(503, "SlowDown") as s3:
        fast_storage_policy.AWS_S3_ENDPOINT_URL = s3.url
        with pytest.raises(storage.StorageUnavailable):
            storage.put_object(key="images/x/original.jpg", body=b"x", content_type="image/jpeg")
    assert s3.requests == 3
    assert storage.breaker_state() == {"state": "closed", "failures": 1}


def test_a_4xx_answer_is_neither_retried_nor_counted_by_the_breaker(fast_storage_policy):
    with ErrorS3(403, "AccessDenied") as s3:
        fast_storage_policy.AWS_S3_ENDPOINT_URL = s3.url
        with pytest.raises(ClientError):
            storage.put_object(key="images/x/original.jpg", body=b"x", content_type="image/jpeg")
    assert s3.requests == 1
    assert storage.breaker_state()["failures"] == 0


def test_a_missing_object_is_not_found_not_a_storage_failure():
    with pytest.raises(storage.StorageObjectNotFound):
        storage.get_object_bytes(key="images/00000000-0000-4000-8000-000000000000/original.jpg")
    assert storage.breaker_state() == {"state": "closed", "failures": 0}


def test_a_stalled_endpoint_gives_503_within_the_timeouts_instead_of_hanging(
    upload, fast_storage_policy
):
    # A socket that accepts connections (in the kernel backlog) but never answers.
    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(16)
    fast_storage_policy.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{stalled.getsockname()[1]}"
    fast_storage_policy.STORAGE_READ_TIMEOUT = 0.3
    fast_storage_policy.STORAGE_RETRY_ATTEMPTS = 2
    try:
        started = time.perf_counter()
        response = upload(samples.webp())
        elapsed = time.perf_counter() - started
    finally:
        stalled.close()

    assert response.status_code == 503
    assert elapsed < 2.0  # two 0.3 s read timeouts plus backoff
    assert Image.objects.count() == 0


def test_the_breaker_opens_fails_fast_and_closes_when_storage_is_back(
    upload, user, private_moto, fast_storage_policy, client
):
    fast_storage_policy.AWS_S3_ENDPOINT_URL = private_moto.url
    # Long enough to restart moto (1-3 s here) while the breaker is still open.
    fast_storage_policy.STORAGE_BREAKER_RESET_TIMEOUT = 8
    storage.ensure_bucket()
    assert upload(samples.webp()).status_code == 201
    rows_before = Image.objects.count()

    private_moto.stop()
    for _ in range(3):  # fail_max failures in a row (each after its retries)
        response = upload(samples.webp())
        assert response.status_code == 503
        assert response["Content-Type"] == "application/problem+json"
        assert int(response["Retry-After"]) >= 1
    assert storage.breaker_state()["state"] == "open"

    started = time.perf_counter()
    response = upload(samples.webp())
    elapsed = time.perf_counter() - started
    assert response.status_code == 503
    assert 1 <= int(response["Retry-After"]) <= 9
    assert elapsed < 0.5, elapsed
    assert Image.objects.count() == rows_before

    ready = client.get("/ready").json()["checks"]["storage"]
    assert ready["status"] == "error"
    assert "breaker open" in ready["error"]

    # Storage returns (moto keeps nothing in memory across restarts; MinIO would keep the
    # bucket). The breaker still refuses until reset_timeout has passed...
    private_moto.start()
    storage.ensure_bucket()
    assert upload(samples.webp()).status_code == 503
    assert Image.objects.count() == rows_before

    # ...then lets a trial call through, which closes it.
    time.sleep(storage.breaker_state()["retry_after"])
    response = upload(samples.webp())
    assert response.status_code == 201, response.json()
    assert storage.breaker_state() == {"state": "closed", "failures": 0}
    assert Image.objects.count() == rows_before + 1
    ready = client.get("/ready").json()["checks"]["storage"]
    assert ready["status"] == "ok" and ready["breaker"]["state"] == "closed"


def test_breaker_state_is_shared_by_every_process_through_redis(fast_storage_policy):
    storage.breaker().open()  # as another process would, after its failures

    # A fresh breaker object (another process) sees the same state.
    storage._redis_breaker.cache_clear()
    assert storage.breaker_state()["state"] == "open"
    with pytest.raises(storage.StorageUnavailable) as raised:
        storage.put_object(key="images/x/original.jpg", body=b"x", content_type="image/jpeg")
    assert raised.value.retry_after >= 1


def test_place_and_photo_reads_keep_working_while_storage_is_down(
    user_client, user, fast_storage_policy
):
    place = LocationFactory(submitter=user, approved=True)
    image = ImageFactory(uploader=user, location=place)
    fast_storage_policy.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens
    storage.breaker().open()

    detail = user_client.get(f"/api/v1/locations/{place.id}")
    assert detail.status_code == 200, detail.content
    [photo] = detail.json()["properties"]["images"]
    assert photo["id"] == str(image.id) and "X-Amz-Signature=" in photo["url"]

    own = user_client.get(f"/api/v1/images/{image.id}")
    assert own.status_code == 200
    assert own.json()["thumbnail_url"]


def test_uploads_keep_working_with_a_process_local_breaker_when_redis_is_unreachable(
    upload, settings
):
    settings.CACHE_REDIS_URL = "redis://127.0.0.1:9/0"  # the breaker's Redis only

    started = time.perf_counter()
    response = upload(samples.webp())

    assert response.status_code == 201, response.json()
    assert storage.breaker().name == "storage-local"
    assert time.perf_counter() - started < 2.0


@pytest.fixture
def stalled_s3(fast_storage_policy):
    """An S3 endpoint that accepts connections (kernel backlog) and never answers."""
    stalled = socket.socket()
    stalled.bind(("127.0.0.1", 0))
    stalled.listen(64)
    fast_storage_policy.AWS_S3_ENDPOINT_URL = f"http://127.0.0.1:{stalled.getsockname()[1]}"
    yield fast_storage_policy
    stalled.close()


def _timed_upload(upload):
    started = time.perf_counter()
    response = upload(samples.webp())
    return response, time.perf_counter() - started


def test_a_stalled_upload_is_503_within_the_deadline_and_queues_its_cleanup(upload, stalled_s3):
    stalled_s3.STORAGE_READ_TIMEOUT = 10.0  # the default: longer than the deadline
    stalled_s3.STORAGE_REQUEST_DEADLINE = 1.5

    response, elapsed = _timed_upload(upload)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) >= 1
    assert elapsed < 1.5 + 1.0, elapsed
    assert Image.objects.count() == 0
    # The PUT may land after all: its deletion is queued (the outbox row survives a
    # broker outage), not left to the daily sweep.
    [cleanup] = OutboxMessage.objects.filter(task_name="media_store.tasks.delete_image_objects")
    assert cleanup.args[0]


def test_stalls_open_the_breaker_and_later_uploads_fail_fast(upload, stalled_s3):
    stalled_s3.STORAGE_REQUEST_DEADLINE = 1.0  # fail_max is 3 in this policy
    for _ in range(3):
        response, elapsed = _timed_upload(upload)
        assert response.status_code == 503
        assert elapsed < 2.0, elapsed
    assert storage.breaker_state()["state"] == "open"

    response, elapsed = _timed_upload(upload)
    assert response.status_code == 503
    assert int(response["Retry-After"]) >= 1
    assert elapsed < 0.3, elapsed


def test_a_missing_bucket_is_503_and_counts_as_a_storage_failure(upload, fast_storage_policy):
    fast_storage_policy.AWS_STORAGE_BUCKET_NAME = "pm-test-faults-no-such-bucket"

    response = upload(samples.webp())

    assert response.status_code == 503, response.content
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) >= 1
    assert storage.breaker_state()["failures"] == 1
    assert Image.objects.count() == 0
