"""The OGC API's own OpenAPI document (/api/v1/ogc/api) drives schemathesis against the
app in-process: it must load as OpenAPI 3.0, and whatever its parameters' schemas allow,
every answer is a 200 in the announced type or a 4xx problem, never a 5xx."""

from collections.abc import Iterator

import pytest
import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings

pytestmark = pytest.mark.django_db

EXAMPLES = {"getFeatures": 150, "getFeature": 30}


@pytest.fixture
def wsgi_app() -> Iterator[object]:
    # As django.test.Client does: a request must not close the test's connection (and
    # with it the transaction holding the test's rows).
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    try:
        yield get_wsgi_application()
    finally:
        signals.request_started.connect(close_old_connections)
        signals.request_finished.connect(close_old_connections)


def test_no_request_the_ogc_openapi_document_allows_is_a_server_error(wsgi_app, user, place_of):
    for index in range(15):
        place_of(user, lon=-170 + index * 20, lat=-60 + index * 8, category="cafe")
    schema = schemathesis.openapi.from_wsgi("/api/v1/ogc/api?f=json", wsgi_app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {operation.definition.raw["operationId"] for operation in operations} == {
        "getLandingPage",
        "getConformanceDeclaration",
        "getCollections",
        "describeCollection",
        "getQueryables",
        "getFeatures",
        "getFeature",
    }
    statuses: dict[str, set[int]] = {}
    for operation in operations:
        run_operation(operation, statuses)
    # The generated requests reached both the happy and the refusing paths.
    assert {200, 400} <= statuses["getFeatures"], statuses
    assert 404 in statuses["getFeature"], statuses


def run_operation(operation, statuses: dict[str, set[int]]) -> None:
    operation_id = operation.definition.raw["operationId"]

    @given(case=operation.as_strategy())
    @settings(
        max_examples=EXAMPLES.get(operation_id, 10),
        deadline=None,
        derandomize=True,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        response = case.call()
        statuses.setdefault(operation_id, set()).add(response.status_code)
        assert response.status_code in (200, 400, 404), (case.path, case.query, response.text)
        if response.status_code != 200:
            headers = {name.lower(): value for name, value in response.headers.items()}
            content_type = headers["content-type"]
            if isinstance(content_type, list):  # schemathesis keeps every value
                (content_type,) = content_type
            assert content_type == "application/problem+json", content_type

    check()
