import io

import pytest
from celery.contrib.testing.worker import start_worker
from opentelemetry.trace import SpanKind
from PIL import Image as PILImage

from config.celery import app as celery_app
from config.middleware import REQUEST_ID_HEADER, REQUEST_ID_SPAN_ATTRIBUTE
from media_store.models import Image
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.support import wait_for

THUMBNAIL_TASK = "media_store.tasks.make_thumbnails"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (320, 200), (20, 120, 220)).save(buffer, format="PNG")
    return buffer.getvalue()


def upload(user_client):
    response = user_client.post(
        "/api/v1/images/upload",
        {"file": io.BytesIO(png_bytes())},
        format="multipart",
        HTTP_X_REQUEST_ID="trace-me-1",
    )
    assert response.status_code == 201, response.content
    return response


def by_id(finished) -> dict:
    return {span.context.span_id: span for span in finished}


def ancestors(span, spans_by_id) -> list:
    chain = []
    while span.parent is not None:
        span = spans_by_id[span.parent.span_id]
        chain.append(span)
    return chain


def server_span(finished):
    (span,) = [s for s in finished if s.kind == SpanKind.SERVER]
    return span


def is_sql(span) -> bool:
    return span.attributes.get("db.system") == "postgresql" or (
        span.attributes.get("db.system.name") == "postgresql"
    )


def is_s3(span, operation: str) -> bool:
    return span.attributes.get("rpc.service") == "S3" and (
        span.attributes.get("rpc.method") == operation
    )


def test_an_upload_traces_the_view_its_sql_and_its_s3_call_under_the_request_span(
    user_client, broker, spans
):
    response = upload(user_client)

    finished = spans.get_finished_spans()
    spans_by_id = by_id(finished)
    request = server_span(finished)
    assert request.name == "POST api/v1/images/upload"
    assert request.parent is None
    assert request.attributes[REQUEST_ID_SPAN_ATTRIBUTE] == response[REQUEST_ID_HEADER]
    assert (
        request.attributes.get(
            "http.status_code", request.attributes.get("http.response.status_code")
        )
        == 201
    )

    inserts = [
        s
        for s in finished
        if is_sql(s) and 'INSERT INTO "media_store_image"' in s.attributes.get("db.statement", "")
    ]
    puts = [s for s in finished if is_s3(s, "PutObject")]
    assert inserts, [s.name for s in finished]
    assert puts, [s.name for s in finished]
    for span in [*inserts, *puts]:
        assert span.context.trace_id == request.context.trace_id
        chain = ancestors(span, spans_by_id)
        assert chain[-1] is request, [s.name for s in chain]
    # The S3 call sits inside the photo service's own span, not beside it.
    upload_span = next(s for s in finished if s.name == "placemap.photos.upload")
    assert upload_span in ancestors(puts[0], spans_by_id)
    # Every span recorded during the request belongs to the request's trace.
    assert {s.context.trace_id for s in finished} == {request.context.trace_id}, [
        (s.name, s.attributes.get("db.statement"))
        for s in finished
        if s.context.trace_id != request.context.trace_id
    ]


@pytest.mark.timeout(120)
def test_a_task_enqueued_by_a_request_continues_its_trace_and_its_request_id(
    user_client, broker, spans, logs
):
    with start_worker(celery_app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        # The embedded worker runs django.setup() again, which resets the root handlers.
        logs.attach()
        response = upload(user_client)
        image_id = response.json()["id"]
        wait_for(
            lambda: Image.objects.get(pk=image_id).status != "processing",
            timeout=60,
            what="the thumbnail task to run in the worker",
        )
        wait_for(
            lambda: any(s.name == f"run/{THUMBNAIL_TASK}" for s in spans.get_finished_spans()),
            timeout=10,
            what="the task's span to end",
        )

    assert Image.objects.get(pk=image_id).status == "ready"
    finished = spans.get_finished_spans()
    spans_by_id = by_id(finished)
    request = server_span(finished)
    (published,) = [s for s in finished if s.name == f"apply_async/{THUMBNAIL_TASK}"]
    (ran,) = [s for s in finished if s.name == f"run/{THUMBNAIL_TASK}"]
    assert published.kind == SpanKind.PRODUCER
    assert ran.kind == SpanKind.CONSUMER
    # request -> ... -> publish (after commit, still inside the request) -> run
    assert ran.parent.span_id == published.context.span_id
    assert ancestors(published, spans_by_id)[-1] is request
    assert ran.context.trace_id == request.context.trace_id
    assert ran.attributes[REQUEST_ID_SPAN_ATTRIBUTE] == "trace-me-1"
    # The task's own SQL and S3 calls are children of its run span.
    thumbnail_puts = [
        s for s in finished if is_s3(s, "PutObject") and ran in ancestors(s, spans_by_id)
    ]
    assert thumbnail_puts

    task_lines = [
        line
        for line in logs.lines()
        if line.get("task_name") == THUMBNAIL_TASK
        and line["event"] in ("task_started", "task_finished")
    ]
    assert [line["event"] for line in task_lines] == ["task_started", "task_finished"]
    for line in task_lines:
        assert line["request_id"] == "trace-me-1"
        assert line["trace_id"] == format(request.context.trace_id, "032x")
    assert task_lines[1]["state"] == "SUCCESS"


def test_the_readiness_probe_traces_its_database_redis_and_s3_checks_under_the_request(
    api_client, spans
):
    response = api_client.get("/ready")

    assert response.status_code == 200, response.content
    finished = spans.get_finished_spans()
    spans_by_id = by_id(finished)
    request = server_span(finished)
    assert request.name == "GET ready"
    # The checks run in worker threads: each must still hang under the request span.
    select_one = [s for s in finished if s.attributes.get("db.statement") == "SELECT 1"]
    ping = [s for s in finished if s.name == "PING"]
    head_bucket = [s for s in finished if is_s3(s, "HeadBucket")]
    for found in (select_one, ping, head_bucket):
        assert len(found) == 1, [s.name for s in finished]
        assert ancestors(found[0], spans_by_id) == [request]


def test_spans_carry_no_password_or_token(api_client, user, spans):
    token = api_client.post(
        "/api/v1/auth/token", {"username": user.username, "password": DEFAULT_PASSWORD}
    ).json()["token"]
    assert api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token}").status_code == 200

    finished = spans.get_finished_spans()
    assert any(
        is_sql(s) and "authtoken_token" in s.attributes.get("db.statement", "") for s in finished
    )
    recorded = repr([(s.name, dict(s.attributes)) for s in finished])
    assert token not in recorded
    assert DEFAULT_PASSWORD not in recorded
