"""structlog on top of the standard library's logging, built from settings.

Every line, whether it comes from structlog (Placemap's code, django-structlog's request
lines) or from a plain `logging` logger (Django, Celery, botocore), goes through the same
formatter: request/task context from contextvars, the current trace and span ids, secrets
redacted, then JSON (one object per line, for production) or a readable console line
(locally).
"""

import re
from typing import Any

import structlog
from django.core.exceptions import ImproperlyConfigured
from opentelemetry import trace

LOG_FORMATS = ("json", "console")
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

REDACTED = "[REDACTED]"

# Keys whose value is a secret wherever they appear in an event (nested dicts included).
SECRET_KEY_PATTERN = re.compile(
    r"pass(word|wd)?|secret|token|authorization|cookie|session|csrf|api[-_]?key|"
    r"signature|credential|private[-_]?key",
    re.IGNORECASE,
)
# Secrets inside free text: query parameters (presigned URLs carry X-Amz-Signature and
# X-Amz-Credential), `Authorization: Token abc` / `Bearer abc` values, and the
# `Credential=...,Signature=...` pairs of an AWS SigV4 Authorization header.
_MASKED_PARAMETERS = (
    r"X-Amz-Signature|X-Amz-Credential|X-Amz-Security-Token|Signature|Credential|"
    r"AWSAccessKeyId|password|passwd|token|access_token|refresh_token|api_key|apikey|"
    r"secret|sessionid|csrftoken|csrfmiddlewaretoken"
)
SECRET_TEXT_PATTERNS = (
    # name=value in query strings, form bodies, SigV4 headers and cookie strings.
    re.compile(rf"(?i)(\b(?:{_MASKED_PARAMETERS})=)[^&\s,;\"']+"),
    # "password": "x" / 'token': 'x' inside repr()'d dicts or JSON text.
    re.compile(
        r"(?i)([\"'](?:password|passwd|token|secret|authorization|cookie|api_key)[\"']\s*:\s*)"
        r"(?:b?[\"'][^\"']*[\"']|[^,}\s]+)"
    ),
    # Authorization schemes followed by a credential.
    re.compile(r"(?i)(\b(?:Token|Bearer|Basic)\s+)[A-Za-z0-9._~+/=-]{6,}"),
)


def _redact_text(text: str) -> str:
    for pattern in SECRET_TEXT_PATTERNS:
        text = pattern.sub(lambda match: match.group(1) + REDACTED, text)
    return text


def _redact(value: Any) -> Any:
    if isinstance(value, str):
        return _redact_text(value)
    if isinstance(value, bytes):
        return _redact_text(value.decode("utf-8", "replace"))
    if isinstance(value, dict):
        return {
            key: REDACTED
            if isinstance(key, str) and SECRET_KEY_PATTERN.search(key)
            else _redact(item)
            for key, item in value.items()
        }
    if isinstance(value, (list, tuple)):
        return [_redact(item) for item in value]
    return value


def redact_secrets(logger, method_name, event_dict):
    """Last processor before rendering: no password, token, cookie or signature leaves."""
    return _redact(event_dict)


def add_trace_context(logger, method_name, event_dict):
    """Put the current trace and span ids on the line, to jump from a log to its trace."""
    span_context = trace.get_current_span().get_span_context()
    # An unsampled trace is never exported: its id would send the reader looking in vain.
    if span_context.is_valid and span_context.trace_flags.sampled:
        event_dict.setdefault("trace_id", format(span_context.trace_id, "032x"))
        event_dict.setdefault("span_id", format(span_context.span_id, "016x"))
    return event_dict


# django-structlog's request logger (config/middleware.py shapes its lines).
DJANGO_STRUCTLOG_REQUEST_LOGGER = "django_structlog.middlewares.request"
# Key config.middleware puts on a request_finished line that a later line replaces (a
# streamed response is logged after its last byte, not when its headers are ready).
SUPERSEDED_EVENT = "_placemap_superseded"


# django-structlog's end-of-stream lines that config.middleware's deferred request_finished
# ("stream_completed": true/false) already says; streaming_failed, with its traceback, stays.
SUPERSEDED_STREAMING_EVENTS = frozenset({"streaming_finished", "streaming_cancelled"})


def drop_superseded_request_lines(logger, method_name, event_dict):
    """Keep one access line per request: drop django-structlog's header-time
    request_finished of a streamed response, and its end-of-stream lines, replaced by the
    request_finished config.middleware writes after the last byte."""
    if event_dict.pop(SUPERSEDED_EVENT, False):
        raise structlog.DropEvent
    if (
        event_dict.get("event") in SUPERSEDED_STREAMING_EVENTS
        and getattr(logger, "name", None) == DJANGO_STRUCTLOG_REQUEST_LOGGER
    ):
        raise structlog.DropEvent
    return event_dict


# Run on every line, from structlog and from plain `logging` loggers alike.
SHARED_PROCESSORS = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_log_level,
    structlog.stdlib.add_logger_name,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
    add_trace_context,
]


def configure_structlog() -> None:
    """structlog hands its events to stdlib logging, which filters levels and renders."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,
            drop_superseded_request_lines,
            *SHARED_PROCESSORS,
            structlog.stdlib.PositionalArgumentsFormatter(),
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )


def formatter_processors(log_format: str) -> list:
    if log_format == "json":
        renderer = structlog.processors.JSONRenderer()
        # JSON carries the traceback as a string field; the console renders it itself.
        before = [structlog.processors.format_exc_info]
    else:
        renderer = structlog.dev.ConsoleRenderer(
            colors=False,
            # No locals: their repr runs arbitrary code under the handler's lock (a
            # QuerySet's repr queries the database; a breaker opening meanwhile logs
            # under its own lock: a deadlock, found by the fault drills) and shows
            # secrets the redaction never sees (connection parameters).
            exception_formatter=structlog.dev.RichTracebackFormatter(
                color_system=None, show_locals=False
            ),
        )
        before = []
    return [
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        *before,
        redact_secrets,
        renderer,
    ]


def build_formatter(log_format: str) -> structlog.stdlib.ProcessorFormatter:
    """The formatter LOGGING installs; tests attach it to their own handler."""
    return structlog.stdlib.ProcessorFormatter(
        processors=formatter_processors(log_format),
        foreign_pre_chain=[*SHARED_PROCESSORS, structlog.stdlib.ExtraAdder()],
    )


def validated(log_format: str, log_level: str) -> tuple[str, str]:
    log_format, log_level = log_format.strip().lower(), log_level.strip().upper()
    if log_format not in LOG_FORMATS:
        raise ImproperlyConfigured(
            f"LOG_FORMAT={log_format!r}: use one of {', '.join(LOG_FORMATS)}."
        )
    if log_level not in LOG_LEVELS:
        raise ImproperlyConfigured(f"LOG_LEVEL={log_level!r}: use one of {', '.join(LOG_LEVELS)}.")
    return log_format, log_level


def build_logging(*, log_format: str, log_level: str) -> dict:
    """The LOGGING dict: one stdout handler, every logger through the structlog formatter."""
    log_format, log_level = validated(log_format, log_level)
    quiet = "WARNING" if log_level == "DEBUG" else log_level
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {
            "structlog": {
                "()": "config.logging.build_formatter",
                "log_format": log_format,
            },
        },
        "handlers": {
            "stdout": {
                "class": "logging.StreamHandler",
                "stream": "ext://sys.stdout",
                "formatter": "structlog",
            },
        },
        "root": {"handlers": ["stdout"], "level": log_level},
        "loggers": {
            # django-structlog's access line (status, level by status) and its
            # request_failed (with the traceback) replace these per-request lines; at
            # ERROR django.request would repeat every 5xx and every traceback.
            "django.request": {"level": "CRITICAL"},
            "django.server": {"level": "WARNING"},
            # SQL with its parameters (token keys, password hashes) never reaches a log;
            # traces show the statements without parameters instead.
            "django.db.backends": {"level": "INFO"},
            # At DEBUG these print request headers (SigV4 Authorization) and bodies.
            "botocore": {"level": quiet},
            "boto3": {"level": quiet},
            "s3transfer": {"level": quiet},
            "urllib3": {"level": quiet},
            # config.celery_signals writes task_started/task_finished with the request id.
            "celery.app.trace": {"level": "WARNING"},
            # At DEBUG it prints the source of every canvas helper at start-up.
            "celery.utils.functional": {"level": "INFO"},
            # Worker start-up/shutdown steps and Redis connection chatter drown the
            # application's own DEBUG lines on a developer's terminal.
            "celery.bootsteps": {"level": "INFO"},
            "celery.worker.consumer": {"level": "INFO"},
            "celery.concurrency": {"level": "INFO"},
            "redis.connection": {"level": "INFO"},
            # The OTLP exporter's own retries would otherwise log about themselves.
            "opentelemetry": {"level": "WARNING"},
        },
    }
