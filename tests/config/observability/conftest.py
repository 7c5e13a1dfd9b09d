import io
import json
import logging
import uuid
from collections.abc import Callable, Iterator

import pytest
from django.db import connections
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from config import telemetry
from config.logging import build_formatter
from tests.support import CeleryWorker


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
def worker_factory(broker, celery_workers) -> Callable[..., CeleryWorker]:
    """Start real workers (prefork, one child) on this run's database and an emptied
    broker; keyword arguments are environment settings (LOG_FORMAT="json" ...)."""

    def start(**env: str) -> CeleryWorker:
        return celery_workers(
            env=env, hostname=f"obs-test-{uuid.uuid4().hex[:8]}@%h", stop_timeout=20
        )

    return start
