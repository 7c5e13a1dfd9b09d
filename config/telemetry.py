"""OpenTelemetry tracing, configured from the standard OTEL_* environment variables.

Off unless an exporter is configured (OTEL_EXPORTER_OTLP_ENDPOINT, or OTEL_TRACES_EXPORTER
other than "none"): then nothing is instrumented and the `trace.get_tracer(__name__)`
spans in the code stay no-ops. On: a TracerProvider with the service name, the sampler
and the exporter(s) the environment asks for, and instrumentation for Django, psycopg,
Redis, botocore (S3) and Celery.

Called once per process, before Django builds its middleware chain: from config/wsgi.py,
config/asgi.py, and in each Celery worker process (config/celery_signals.py).
"""

import logging
import os
from collections.abc import Sequence

from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import (
    BatchSpanProcessor,
    ConsoleSpanExporter,
    SimpleSpanProcessor,
    SpanExporter,
)
from opentelemetry.sdk.trace.sampling import (
    ALWAYS_OFF,
    ALWAYS_ON,
    ParentBased,
    ParentBasedTraceIdRatio,
    Sampler,
    TraceIdRatioBased,
)

import config.env  # noqa: F401  (loads .env into os.environ before OTEL_* are read)

logger = logging.getLogger(__name__)

EXPORTERS = ("otlp", "console", "none")
PROTOCOLS = ("http/protobuf", "grpc")
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)

_provider: TracerProvider | None = None


def _getenv(name: str) -> str:
    return os.environ.get(name, "").strip()


def exporter_names() -> list[str]:
    """Which exporters the environment asks for; [] means tracing is off."""
    if _getenv("OTEL_SDK_DISABLED").lower() in ("1", "true", "yes", "on"):
        return []
    raw = _getenv("OTEL_TRACES_EXPORTER").lower()
    if raw:
        names = [name.strip() for name in raw.split(",") if name.strip()]
        unknown = sorted(set(names) - set(EXPORTERS))
        if unknown:
            raise ImproperlyConfigured(
                f"OTEL_TRACES_EXPORTER={raw!r}: unknown {unknown}; use {', '.join(EXPORTERS)}."
            )
        return [name for name in names if name != "none"]
    # The SDK's own default is "otlp" even with no endpoint, which would retry against
    # localhost forever; Placemap exports only when an endpoint is given.
    if _getenv("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or _getenv("OTEL_EXPORTER_OTLP_ENDPOINT"):
        return ["otlp"]
    return []


def otlp_protocol() -> str:
    protocol = (
        _getenv("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or _getenv("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    ).lower()
    if protocol not in PROTOCOLS:
        raise ImproperlyConfigured(
            f"OTEL_EXPORTER_OTLP_PROTOCOL={protocol!r}: use one of {', '.join(PROTOCOLS)}."
        )
    return protocol


def sampler_from_env() -> Sampler:
    """The SDK falls back to always-on on a typo; Placemap refuses to start instead."""
    name = (_getenv("OTEL_TRACES_SAMPLER") or "parentbased_always_on").lower()
    if name not in SAMPLERS:
        raise ImproperlyConfigured(
            f"OTEL_TRACES_SAMPLER={name!r}: use one of {', '.join(SAMPLERS)}."
        )
    if name.endswith("traceidratio"):
        raw = _getenv("OTEL_TRACES_SAMPLER_ARG") or "1.0"
        try:
            ratio = float(raw)
        except ValueError:
            raise ImproperlyConfigured(
                f"OTEL_TRACES_SAMPLER_ARG={raw!r} is not a number."
            ) from None
        if not 0.0 <= ratio <= 1.0:
            raise ImproperlyConfigured(f"OTEL_TRACES_SAMPLER_ARG={ratio} must be within 0..1.")
        return (
            TraceIdRatioBased(ratio) if name == "traceidratio" else ParentBasedTraceIdRatio(ratio)
        )
    return {
        "always_on": ALWAYS_ON,
        "always_off": ALWAYS_OFF,
        "parentbased_always_on": ParentBased(ALWAYS_ON),
        "parentbased_always_off": ParentBased(ALWAYS_OFF),
    }[name]


def _otlp_exporter() -> SpanExporter:
    # Endpoint, headers, timeout and compression come from OTEL_EXPORTER_OTLP_* as usual.
    if otlp_protocol() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    return OTLPSpanExporter()


def _processors_from_env(names: Sequence[str]) -> list:
    processors = []
    for name in names:
        if name == "otlp":
            processors.append(BatchSpanProcessor(_otlp_exporter()))
        elif name == "console":
            processors.append(SimpleSpanProcessor(ConsoleSpanExporter()))
    return processors


def build_tracer_provider(
    *, component: str, span_exporter: SpanExporter | None = None
) -> TracerProvider | None:
    """A provider as the environment describes it, or None when tracing is off.

    `span_exporter` replaces the environment's exporters (tests pass an in-memory one).
    """
    names = exporter_names()
    if span_exporter is None and not names:
        return None
    # Validate everything before any exporter (and its thread) exists.
    sampler = sampler_from_env()
    if "otlp" in names:
        otlp_protocol()
    processors = (
        [SimpleSpanProcessor(span_exporter)] if span_exporter else _processors_from_env(names)
    )
    # Resource.create reads OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES; without a
    # name, web and worker appear as two services in the trace viewer.
    attributes = {"placemap.component": component}
    if not _getenv("OTEL_SERVICE_NAME"):
        attributes["service.name"] = f"placemap-{component}"
    provider = TracerProvider(resource=Resource.create(attributes), sampler=sampler)
    for processor in processors:
        provider.add_span_processor(processor)
    return provider


def configure_telemetry(*, component: str) -> TracerProvider | None:
    """Set up tracing for this process, once. `component` is "web" or "worker".

    Returns the provider, or None when tracing is off (nothing is instrumented then)."""
    global _provider
    if _provider is not None:
        return _provider
    provider = build_tracer_provider(component=component)
    if provider is None:
        return None
    trace.set_tracer_provider(provider)
    instrument(provider, component=component)
    _provider = provider
    logger.info("tracing_configured", extra={"exporters": exporter_names(), "component": component})
    return provider


def instrument(provider: TracerProvider, *, component: str) -> None:
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    if component == "web":
        from opentelemetry.instrumentation.django import DjangoInstrumentor

        # Inserts its middleware first in settings.MIDDLEWARE: call before Django builds
        # the handler. OTEL_PYTHON_DJANGO_EXCLUDED_URLS (e.g. "health,ready") is honoured.
        DjangoInstrumentor().instrument(tracer_provider=provider)
    # SQL text only; parameters (token keys, emails) never go into spans.
    PsycopgInstrumentor().instrument(tracer_provider=provider, capture_parameters=False)
    RedisInstrumentor().instrument(tracer_provider=provider)
    BotocoreInstrumentor().instrument(tracer_provider=provider)
    # Web: a producer span per enqueue and the trace context in the message headers.
    # Worker: a consumer span per task, child of the producer span.
    CeleryInstrumentor().instrument(tracer_provider=provider)
    from config.celery_signals import run_task_receivers_inside_spans

    run_task_receivers_inside_spans()


def uninstrument() -> None:
    """Undo `instrument` (tests instrument around the cases that need it)."""
    from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
    from opentelemetry.instrumentation.celery import CeleryInstrumentor
    from opentelemetry.instrumentation.django import DjangoInstrumentor
    from opentelemetry.instrumentation.psycopg import PsycopgInstrumentor
    from opentelemetry.instrumentation.redis import RedisInstrumentor

    for instrumentor in (
        DjangoInstrumentor(),
        PsycopgInstrumentor(),
        RedisInstrumentor(),
        BotocoreInstrumentor(),
        CeleryInstrumentor(),
    ):
        if instrumentor.is_instrumented_by_opentelemetry:
            instrumentor.uninstrument()


def shutdown_telemetry() -> None:
    """Flush what is buffered (a Celery child process exits without atexit hooks)."""
    if _provider is not None:
        _provider.shutdown()
