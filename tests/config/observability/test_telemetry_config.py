"""Tracing set-up from OTEL_* variables, checked in fresh processes (the real start-up
path through config/wsgi.py) against real OTLP receivers over HTTP and gRPC."""

import threading
from concurrent import futures
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import grpc
import pytest
from django.core.exceptions import ImproperlyConfigured
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2, trace_service_pb2_grpc

from config import telemetry
from tests.support import run_python

# Serves one request through the real WSGI or ASGI application (the process start-up a
# server does), then flushes the exporter and reports what it saw.
SERVE_THROUGH = {
    "wsgi": """
import config.wsgi
from wsgiref.util import setup_testing_defaults

environ = {}
setup_testing_defaults(environ)
environ.update(PATH_INFO="/health", HTTP_X_REQUEST_ID="otlp-check-1")
statuses = []
b"".join(config.wsgi.application(environ, lambda status, headers, exc_info=None: statuses.append(status)))
status = int(statuses[0].split()[0])
""",
    "asgi": """
import asyncio
import config.asgi

async def call():
    scope = {
        "type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1", "method": "GET",
        "scheme": "http", "path": "/health", "raw_path": b"/health", "query_string": b"",
        "root_path": "", "client": ("127.0.0.1", 50000), "server": ("127.0.0.1", 80),
        "headers": [(b"host", b"127.0.0.1"), (b"x-request-id", b"otlp-check-1")],
    }
    sent = []
    requests = [{"type": "http.request", "body": b"", "more_body": False}]
    done = asyncio.Event()

    async def receive():
        if requests:
            return requests.pop()
        await done.wait()  # a client stays connected until the response is complete
        return {"type": "http.disconnect"}

    async def send(message):
        sent.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body"):
            done.set()

    await config.asgi.application(scope, receive, send)
    return sent[0]["status"]

status = asyncio.run(call())
""",
}
REPORT = """
import json
from django.conf import settings
from opentelemetry import trace
from config.telemetry import shutdown_telemetry

shutdown_telemetry()
print(json.dumps({
    "status": status,
    "provider": type(trace.get_tracer_provider()).__name__,
    "first_middleware": settings.MIDDLEWARE[0],
}))
"""


def serve_one_request(server: str = "wsgi", **env: str) -> dict:
    import json

    output = run_python(SERVE_THROUGH[server] + REPORT, **env)
    return json.loads(output.strip().splitlines()[-1])


def spans_of(requests: list[trace_service_pb2.ExportTraceServiceRequest]) -> list[tuple]:
    found = []
    for request in requests:
        for resource_spans in request.resource_spans:
            resource = {a.key: a.value.string_value for a in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    attributes = {a.key: a.value.string_value for a in span.attributes}
                    found.append((resource, span.name, attributes))
    return found


@pytest.fixture
def otlp_http_receiver():
    received: list[trace_service_pb2.ExportTraceServiceRequest] = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            if self.path == "/v1/traces":
                received.append(trace_service_pb2.ExportTraceServiceRequest.FromString(body))
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.end_headers()
            self.wfile.write(trace_service_pb2.ExportTraceServiceResponse().SerializeToString())

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}", received
    server.shutdown()
    server.server_close()


@pytest.fixture
def otlp_grpc_receiver():
    received: list[trace_service_pb2.ExportTraceServiceRequest] = []

    class Receiver(trace_service_pb2_grpc.TraceServiceServicer):
        def Export(self, request, context):
            received.append(request)
            return trace_service_pb2.ExportTraceServiceResponse()

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    trace_service_pb2_grpc.add_TraceServiceServicer_to_server(Receiver(), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    yield f"http://127.0.0.1:{port}", received
    server.stop(grace=None)


def test_tracing_is_off_when_no_exporter_is_configured():
    result = serve_one_request()

    assert result["status"] == 200
    assert result["provider"] == "ProxyTracerProvider"
    assert result["first_middleware"] == "config.middleware.RequestIDMiddleware"


@pytest.mark.parametrize("server", ["wsgi", "asgi"])
def test_a_request_is_exported_over_otlp_http_with_its_request_id(otlp_http_receiver, server):
    endpoint, received = otlp_http_receiver

    result = serve_one_request(server, OTEL_EXPORTER_OTLP_ENDPOINT=endpoint)

    assert result["provider"] == "TracerProvider"
    assert result["first_middleware"].startswith("opentelemetry.instrumentation.django")
    (span,) = [s for s in spans_of(received) if s[1] == "GET health"]
    resource, _, attributes = span
    assert resource["service.name"] == "placemap-web"
    assert attributes["placemap.request_id"] == "otlp-check-1"


def test_a_request_is_exported_over_otlp_grpc_under_the_configured_service_name(
    otlp_grpc_receiver,
):
    endpoint, received = otlp_grpc_receiver

    serve_one_request(
        OTEL_EXPORTER_OTLP_ENDPOINT=endpoint,
        OTEL_EXPORTER_OTLP_PROTOCOL="grpc",
        OTEL_EXPORTER_OTLP_INSECURE="true",
        OTEL_SERVICE_NAME="placemap-api",
    )

    (span,) = [s for s in spans_of(received) if s[1] == "GET health"]
    assert span[0]["service.name"] == "placemap-api"
    assert span[2]["placemap.request_id"] == "otlp-check-1"


def test_a_sampler_set_to_always_off_exports_nothing(otlp_http_receiver):
    endpoint, received = otlp_http_receiver

    serve_one_request(OTEL_EXPORTER_OTLP_ENDPOINT=endpoint, OTEL_TRACES_SAMPLER="always_off")

    assert spans_of(received) == []


def test_an_explicit_none_exporter_wins_over_an_endpoint(monkeypatch):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv("OTEL_TRACES_EXPORTER", "none")
    assert telemetry.exporter_names() == []
    assert telemetry.build_tracer_provider(component="web") is None


def test_a_ratio_sampler_reads_its_argument(monkeypatch):
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "0.25")
    assert "TraceIdRatioBased{0.25}" in telemetry.sampler_from_env().get_description()


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("OTEL_TRACES_SAMPLER", "sometimes", "OTEL_TRACES_SAMPLER"),
        ("OTEL_TRACES_EXPORTER", "jaeger", "OTEL_TRACES_EXPORTER"),
        ("OTEL_EXPORTER_OTLP_PROTOCOL", "http/json", "OTEL_EXPORTER_OTLP_PROTOCOL"),
    ],
)
def test_a_misspelt_otel_setting_stops_start_up(monkeypatch, name, value, message):
    monkeypatch.setenv("OTEL_EXPORTER_OTLP_ENDPOINT", "http://collector:4318")
    monkeypatch.setenv(name, value)
    with pytest.raises(ImproperlyConfigured, match=message):
        telemetry.build_tracer_provider(component="web")


@pytest.mark.parametrize("ratio", ["1.5", "-0.1", "half"])
def test_a_sampler_ratio_outside_0_to_1_stops_start_up(monkeypatch, ratio):
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "traceidratio")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", ratio)
    with pytest.raises(ImproperlyConfigured, match="OTEL_TRACES_SAMPLER_ARG"):
        telemetry.sampler_from_env()
