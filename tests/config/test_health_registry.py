"""/ready runs the checks the platform and the apps registered (config/health.py)."""

import ast
from pathlib import Path

import pytest

from config import health

pytestmark = pytest.mark.django_db

APPS = ("accounts", "jobs", "notifications", "media_store", "locations", "moderation")


@pytest.fixture
def registry():
    checks, advisory = dict(health.CHECKS), set(health.ADVISORY_CHECKS)
    yield health
    health.CHECKS.clear()
    health.CHECKS.update(checks)
    health.ADVISORY_CHECKS.clear()
    health.ADVISORY_CHECKS.update(advisory)


def _failing() -> dict:
    raise ConnectionError("search index unreachable")


def test_the_platform_and_the_apps_register_their_checks():
    assert list(health.registered_checks()) == ["database", "redis", "storage", "worker"]
    assert sorted(health.ADVISORY_CHECKS) == ["replicas", "worker"]


def test_a_registered_check_is_run_and_its_failure_makes_ready_503(client, registry):
    registry.register_check("search", _failing)
    response = client.get("/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["search"]["status"] == "error"
    assert body["checks"]["search"]["error"] == "ConnectionError: search index unreachable"
    assert response["Retry-After"] == "5"


def test_an_advisory_check_is_reported_but_leaves_ready_200(client, registry):
    registry.register_check("search", _failing, advisory=True)
    registry.register_check("worker", lambda: {"queue_length": 0}, advisory=True)
    response = client.get("/ready")
    assert response.status_code == 200, response.json()
    assert response.json()["checks"]["search"]["status"] == "error"


def test_registering_a_name_again_replaces_its_check(client, registry):
    registry.register_check("redis", lambda: {"replaced": True})
    checks = client.get("/ready").json()["checks"]
    assert checks["redis"]["replaced"] is True
    assert list(checks) == ["database", "redis", "storage", "worker"]


def test_the_health_module_imports_no_app():
    # The platform sits below every app: the apps register, config never imports them
    # (lint-imports checks the whole tree; this names the regression precisely).
    tree = ast.parse(Path(health.__file__).read_text())
    imported = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            imported.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module.split(".")[0])
    assert not imported & set(APPS)
