import structlog
from celery import shared_task
from opentelemetry.trace import SpanKind

from config.celery_signals import REQUEST_ID_HEADER, add_request_id_header
from media_store.models import Image
from tests.config.observability.test_tracing import THUMBNAIL_TASK, upload
from tests.support import wait_for

probe_logger = structlog.get_logger("tests.probe")


@shared_task(name="tests.observability.log_probe")
def log_probe(marker: str) -> None:
    probe_logger.info("probe_ran", marker=marker)


def test_a_worker_process_logs_the_task_of_a_request_with_its_request_id_and_trace(
    user_client, broker, spans, worker_factory
):
    # A real `celery worker` (prefork child), JSON logs and console-exported spans on its
    # stdout; this process publishes through the real broker.
    worker = worker_factory(LOG_FORMAT="json", OTEL_TRACES_EXPORTER="console")

    response = upload(user_client)
    image_id = response.json()["id"]
    wait_for(
        lambda: Image.objects.get(pk=image_id).status != "processing",
        timeout=60,
        what="the worker to make the thumbnails",
    )
    finished = wait_for(
        lambda: [
            line
            for line in worker.json_lines()
            if line.get("task_name") == THUMBNAIL_TASK and line["event"] == "task_finished"
        ],
        timeout=10,
        what="the worker's task_finished line",
    )

    (request,) = [s for s in spans.get_finished_spans() if s.kind == SpanKind.SERVER]
    trace_id = format(request.context.trace_id, "032x")
    task_lines = [line for line in worker.json_lines() if line.get("task_name") == THUMBNAIL_TASK]
    assert [line["event"] for line in task_lines] == ["task_started", "task_finished"]
    for line in task_lines:
        assert line["request_id"] == "trace-me-1" == response["X-Request-ID"]
        assert line["trace_id"] == trace_id
    assert finished[0]["state"] == "SUCCESS"
    # The worker exported its spans (console exporter): the run span is in the same trace.
    output = worker.log_path.read_text()
    assert f'"name": "run/{THUMBNAIL_TASK}"' in output
    assert f'"trace_id": "0x{trace_id}"' in output


def test_the_publish_hook_carries_the_bound_request_id_into_a_task(logs):
    headers: dict = {}
    with structlog.contextvars.bound_contextvars(request_id="req-42"):
        add_request_id_header(headers=headers)
    assert headers == {REQUEST_ID_HEADER: "req-42"}

    with structlog.contextvars.bound_contextvars(request_id="outer-request"):
        log_probe.apply(args=("m1",), headers=headers)
        # The task's binding is undone afterwards: an eager task inside a request must
        # not leave the request with the task's id.
        assert structlog.contextvars.get_contextvars()["request_id"] == "outer-request"

    (line,) = logs.events("probe_ran")
    assert line["request_id"] == "req-42"
    assert line["task_name"] == "tests.observability.log_probe"
    assert line["task_id"]


def test_a_task_ignores_an_insane_request_id_header(logs):
    log_probe.apply(args=("m2",), headers={REQUEST_ID_HEADER: "bad id\nforged: yes"})

    (line,) = logs.events("probe_ran")
    assert "request_id" not in line
    assert "forged" not in logs.text


def test_nothing_is_added_to_a_task_published_outside_a_request():
    headers: dict = {}
    structlog.contextvars.clear_contextvars()
    add_request_id_header(headers=headers)
    assert headers == {}
