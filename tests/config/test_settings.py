import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def load_settings(module: str, **env) -> subprocess.CompletedProcess:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    environment.update(env, DJANGO_SETTINGS_MODULE=module)
    return subprocess.run(
        [sys.executable, "-c", "import django; django.setup()"],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_a_bad_boolean_stops_start_up_with_a_clear_message():
    result = load_settings("config.settings.local", DEBUG="maybe")
    assert result.returncode != 0
    assert "DEBUG='maybe' is not a boolean" in result.stderr


def test_a_bad_integer_stops_start_up():
    result = load_settings("config.settings.local", DB_POOL_MAX_SIZE="soon")
    assert result.returncode != 0
    assert "DB_POOL_MAX_SIZE='soon' is not an integer" in result.stderr


def test_production_refuses_to_start_without_a_secret_key():
    result = load_settings("config.settings.production", SECRET_KEY="", ALLOWED_HOSTS="example.org")
    assert result.returncode != 0
    assert "SECRET_KEY must be set" in result.stderr


def test_production_refuses_to_start_without_allowed_hosts():
    result = load_settings("config.settings.production", SECRET_KEY="k" * 64, ALLOWED_HOSTS="")
    assert result.returncode != 0
    assert "ALLOWED_HOSTS must be set" in result.stderr


def test_production_starts_with_the_required_values():
    result = load_settings(
        "config.settings.production", SECRET_KEY="k" * 64, ALLOWED_HOSTS="map.example.org"
    )
    assert result.returncode == 0, result.stderr
