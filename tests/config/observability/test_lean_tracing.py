"""The lean read path (config/lean.py) is traced like Django's: the same OTel Django
middleware makes the server span, with the request id, around the read's own spans."""

import pytest
from opentelemetry.trace import SpanKind

from config import lean
from config.asgi import application
from tests.locations.test_lean_reads import SEARCH, call


@pytest.fixture
def lean_app():
    """The LeanReads app inside config.asgi.application; its handler is rebuilt around
    the test so that it sees the middleware the test's instrumentation inserts."""
    reads = application.application_mapping["http"].app
    assert isinstance(reads, lean.LeanReads)
    reads._handler = None
    yield reads
    reads._handler = None


def test_a_lean_request_is_traced_with_its_request_id_and_its_sql(spans, lean_app, monkeypatch):
    served = []
    original = lean.LeanHandler.serve
    monkeypatch.setattr(
        lean.LeanHandler, "serve", lambda self, scope: served.append(scope) or original(self, scope)
    )

    answer = call(SEARCH, {"X-Request-ID": "traced-1"})

    assert answer["status"] == 200
    assert len(served) == 1
    finished = spans.get_finished_spans()
    (server,) = [s for s in finished if s.kind == SpanKind.SERVER]
    assert server.attributes["placemap.request_id"] == "traced-1"
    search = next(s for s in finished if s.name == "placemap.locations.search")
    assert search.context.trace_id == server.context.trace_id
    assert any(
        s.attributes.get("db.system") == "postgresql"
        and s.context.trace_id == server.context.trace_id
        for s in finished
    )
