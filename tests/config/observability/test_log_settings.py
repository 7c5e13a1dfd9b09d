import json
import logging

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.logging import build_formatter, build_logging
from tests.support import run_python

PRINT_LOG_SETTINGS = """
import json, django
from django.conf import settings
django.setup()
import logging, structlog
structlog.get_logger("probe").info("hello", password="never-shown")
print(json.dumps({"format": settings.LOG_FORMAT, "level": settings.LOG_LEVEL,
                  "root": logging.getLevelName(logging.getLogger().level)}))
"""

PRODUCTION_ENV = {
    "SECRET_KEY": "x" * 60,
    "ALLOWED_HOSTS": "placemap.example.org",
}


def log_settings_of(module: str, **env: str) -> tuple[dict, list[str]]:
    # Empty LOG_* hide any value from a developer's .env (empty means "the default").
    env = {"LOG_FORMAT": "", "LOG_LEVEL": "", **env, "DJANGO_SETTINGS_MODULE": module}
    *log_lines, settings_line = run_python(PRINT_LOG_SETTINGS, **env).strip().splitlines()
    return json.loads(settings_line), log_lines


def test_production_writes_one_json_object_per_line_at_info():
    settings, lines = log_settings_of("config.settings.production", **PRODUCTION_ENV)

    assert settings == {"format": "json", "level": "INFO", "root": "INFO"}
    (line,) = lines
    assert json.loads(line)["event"] == "hello"
    assert "never-shown" not in line


def test_local_writes_readable_lines_at_debug():
    settings, lines = log_settings_of("config.settings.local")

    assert settings == {"format": "console", "level": "DEBUG", "root": "DEBUG"}
    hello = next(line for line in lines if "hello" in line)
    assert not hello.startswith("{")
    assert "[info" in hello and "password=[REDACTED]" in hello


def test_log_level_overrides_the_environments_default():
    settings, _ = log_settings_of("config.settings.local", LOG_LEVEL="warning")

    assert settings["level"] == "WARNING"
    assert settings["root"] == "WARNING"


@pytest.mark.parametrize(
    ("log_format", "log_level", "message"),
    [("xml", "INFO", "LOG_FORMAT"), ("json", "LOUD", "LOG_LEVEL")],
)
def test_an_unknown_log_format_or_level_stops_start_up(log_format, log_level, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        build_logging(log_format=log_format, log_level=log_level)


def test_at_debug_the_libraries_that_print_credentials_stay_at_warning():
    config = build_logging(log_format="console", log_level="DEBUG")

    for name in ("botocore", "urllib3"):
        assert config["loggers"][name]["level"] == "WARNING"
    # SQL with its parameters (token keys, password hashes) is never logged.
    assert config["loggers"]["django.db.backends"]["level"] == "INFO"


def test_a_plain_logging_record_gets_the_same_json_shape():
    record = logging.LogRecord(
        "django.request", logging.ERROR, __file__, 1, "boom %s", ("x",), None
    )

    line = json.loads(build_formatter("json").format(record))

    assert line["event"] == "boom x"
    assert line["level"] == "error"
    assert line["logger"] == "django.request"
    assert line["timestamp"].endswith("Z")
