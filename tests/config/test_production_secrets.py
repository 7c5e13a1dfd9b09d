"""Production refuses to start without its database and storage secrets: base.py has no
default for them (a deployment that forgot one must not run on a development password)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRETS = ("DATABASE_URL", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY")
PRODUCTION = {
    "SECRET_KEY": "k" * 64,
    "ALLOWED_HOSTS": "map.example.org",
    "DATABASE_URL": "postgis://placemap:s3cret@db.internal:5432/placemap",
    "AWS_ACCESS_KEY_ID": "production-key",
    "AWS_SECRET_ACCESS_KEY": "production-secret",
}


def start(module: str, **env: str) -> subprocess.CompletedProcess:
    # An empty value counts as unset here, and also hides a developer's .env, which
    # config.env reads only for variables the environment does not have at all.
    environment = {k: v for k, v in os.environ.items() if not k.startswith("DJANGO")}
    environment.update(env, DJANGO_SETTINGS_MODULE=module)
    code = (
        "import django; django.setup(); from django.conf import settings; "
        "print(settings.DATABASES['default']['PASSWORD'], settings.AWS_ACCESS_KEY_ID, "
        "settings.AWS_SECRET_ACCESS_KEY)"
    )
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.mark.parametrize("name", SECRETS)
def test_production_refuses_to_start_without_each_secret(name):
    result = start("config.settings.production", **{**PRODUCTION, name: ""})
    assert result.returncode != 0
    assert f"ImproperlyConfigured: {name} must be set in production." in result.stderr


def test_production_uses_the_secrets_it_is_given():
    result = start("config.settings.production", **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["s3cret", "production-key", "production-secret"]


@pytest.mark.parametrize("module", ["config.settings.local", "config.settings.test"])
def test_development_settings_bring_the_development_services_secrets(module):
    # Neither the environment nor .env has them: config.env has read .env by the time
    # they are removed.
    code = "\n".join(
        [
            "import importlib, os",
            "import config.env",
            f"for name in {SECRETS!r}: os.environ.pop(name, None)",
            f"s = importlib.import_module({module!r})",
            "print(s.DATABASES['default']['PASSWORD'], s.AWS_ACCESS_KEY_ID,"
            " s.AWS_SECRET_ACCESS_KEY)",
        ]
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env={k: v for k, v in os.environ.items() if not k.startswith("DJANGO")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["placemap", "placemap", "placemap-secret"]
