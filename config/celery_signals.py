"""Logs and traces across the web/worker boundary.

The request id travels in the task message headers: added when a task is published from
a request, bound to every log line while the worker runs that task. The trace context
travels the same way, through the OpenTelemetry Celery instrumentation. Imported by
config/celery.py, so both the web process (publishing) and the worker (consuming) have it.

Why not django-structlog's Celery receivers (DJANGO_STRUCTLOG_CELERY_ENABLED stays off):
- they copy *every* variable bound in the request (user id, anything a view binds) into
  the message, and the worker binds whatever the header holds unchecked: anyone who can
  write to the broker writes log fields. Here only the request id travels, and the worker
  checks it against the same rule as the HTTP header;
- their task_prerun clears the whole context and nothing restores it: a task run eagerly
  inside a request (Task.apply) would leave the rest of the request's lines without its
  id. Here the task's bindings are undone with their tokens;
- they log task_enqueued at INFO in the web process, a second INFO line for every request
  that enqueues a task, and need a worker bootstep besides the app setting.
"""

import time

import structlog
from celery import signals
from opentelemetry import trace

from config.middleware import REQUEST_ID_SPAN_ATTRIBUTE, SANE_REQUEST_ID

REQUEST_ID_HEADER = "placemap_request_id"

logger = structlog.get_logger("placemap.tasks")


@signals.setup_logging.connect(weak=False)
def keep_django_logging(**kwargs) -> None:
    """A receiver here stops Celery from replacing the root logger's handlers: the worker
    keeps the LOGGING that django.setup() applied, so its lines come out as the web's."""


@signals.worker_process_init.connect(weak=False)
def start_worker_telemetry(**kwargs) -> None:
    # Sent in every prefork child after the fork (and once by the solo pool): exporter
    # threads and connections must be created in the process that uses them.
    from config.telemetry import configure_telemetry

    configure_telemetry(component="worker")


@signals.beat_init.connect(weak=False)
def start_beat_telemetry(**kwargs) -> None:
    # beat publishes the periodic tasks: its publish spans start their traces.
    from config.telemetry import configure_telemetry

    configure_telemetry(component="beat")


@signals.worker_process_shutdown.connect(weak=False)
def stop_worker_telemetry(**kwargs) -> None:
    from config.telemetry import shutdown_telemetry

    shutdown_telemetry()


@signals.before_task_publish.connect(weak=False)
def add_request_id_header(headers: dict | None = None, **kwargs) -> None:
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    if headers is not None and request_id:
        headers[REQUEST_ID_HEADER] = request_id


def _request_id_of(task) -> str | None:
    request = task.request
    # A worker exposes message headers as attributes; Task.apply(headers=...) keeps them
    # in a dict.
    value = getattr(request, REQUEST_ID_HEADER, None) or (request.headers or {}).get(
        REQUEST_ID_HEADER
    )
    # Anyone who can write to the broker can set headers: same rule as the HTTP header.
    if isinstance(value, str) and SANE_REQUEST_ID.fullmatch(value):
        return value
    return None


@signals.task_prerun.connect(weak=False)
def bind_task_context(task_id: str, task, **kwargs) -> None:
    context = {"task_id": task_id, "task_name": task.name}
    request_id = _request_id_of(task)
    if request_id:
        context["request_id"] = request_id
    # Tokens restore the previous context on postrun: an eager task runs inside the
    # request, whose own context must survive it.
    task.request._placemap_log_tokens = structlog.contextvars.bind_contextvars(**context)
    task.request._placemap_started = time.perf_counter()
    logger.info("task_started")


def run_task_receivers_inside_spans() -> None:
    """Receivers run in the order they were connected. Called once the Celery
    instrumentation has connected its own: prerun moves behind it, so "task_started" is
    logged inside the task's span (with its trace id); postrun stays ahead of it, so the
    span is still open when "task_finished" is logged."""
    signals.task_prerun.disconnect(bind_task_context)
    signals.task_prerun.connect(bind_task_context, weak=False)


@signals.task_postrun.connect(weak=False)
def unbind_task_context(task_id: str, task, state: str | None = None, **kwargs) -> None:
    started = getattr(task.request, "_placemap_started", None)
    duration_ms = round((time.perf_counter() - started) * 1000, 1) if started else None
    request_id = structlog.contextvars.get_contextvars().get("request_id")
    # Connected before the Celery instrumentation's postrun: the task's span is current.
    span = trace.get_current_span()
    if request_id and span.is_recording():
        span.set_attribute(REQUEST_ID_SPAN_ATTRIBUTE, request_id)
    logger.info("task_finished", state=state, duration_ms=duration_ms)
    tokens = getattr(task.request, "_placemap_log_tokens", None)
    if tokens:
        structlog.contextvars.reset_contextvars(**tokens)
