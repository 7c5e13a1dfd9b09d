import json
import logging
import uuid

import pytest

from config.parsers import MAX_JSON_DEPTH
from tests.locations.factories import LocationFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db


def test_validation_errors_name_each_field(api_client):
    response = api_client.post("/api/v1/auth/register", {"username": "x", "email": "nope"})
    body = assert_problem(response, 400)
    assert set(body["errors"]) >= {"username", "email", "password"}


def test_unauthenticated_is_401_with_a_challenge(api_client):
    response = api_client.get("/api/v1/me")
    assert_problem(response, 401)
    assert response["WWW-Authenticate"].startswith("Token")


@pytest.mark.urls("tests.config.urls_failing")
def test_a_user_who_is_not_a_moderator_gets_403(user_client):
    assert_problem(user_client.get("/api/v1/test/moderators-only"), 403)


def test_an_unknown_api_path_is_a_problem_404(api_client):
    body = assert_problem(api_client.get(f"/api/v1/nothing-here/{uuid.uuid4()}"), 404)
    assert "errors" not in body


def test_a_wrong_method_is_405(api_client):
    assert_problem(api_client.get("/api/v1/auth/register"), 405)


@pytest.mark.urls("tests.config.urls_failing")
def test_an_unexpected_error_is_a_500_problem_without_traceback(api_client):
    response = api_client.get("/api/v1/test/explode")
    body = assert_problem(response, 500)
    text = response.content.decode()
    assert "Traceback" not in text
    assert "secret internal detail" not in text
    assert body["request_id"]


def test_throttled_requests_get_429_with_retry_after(api_client, settings):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "auth": "2/minute"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        for _ in range(2):
            api_client.post("/api/v1/auth/token", {"username": "a", "password": "b"})
        response = api_client.post("/api/v1/auth/token", {"username": "a", "password": "b"})
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
    assert_problem(response, 429)
    assert int(response["Retry-After"]) >= 1


@pytest.mark.urls("tests.config.urls_failing")
def test_a_database_outage_is_a_503_with_retry_after(api_client):
    response = api_client.get("/api/v1/test/database-down")
    body = assert_problem(response, 503)
    assert int(response["Retry-After"]) >= 1
    assert "database" in body["detail"].lower()


DEEP_JSON = "[" * 1000 + "]" * 1000  # 2 kB


def _assert_logged_as_one_warning_without_traceback(caplog):
    assert not [record for record in caplog.records if record.exc_info]
    assert max(record.levelno for record in caplog.records) == logging.WARNING
    assert len([r for r in caplog.records if r.levelno == logging.WARNING]) == 1


@pytest.mark.parametrize(
    ("client_name", "method", "path"),
    [
        ("api_client", "post", "/api/v1/auth/token"),
        ("api_client", "post", "/api/v1/auth/register"),
        ("user_client", "post", "/api/v1/locations"),
        ("user_client", "patch", "/api/v1/locations/{own_place}"),
        ("moderator_client", "patch", "/api/v1/admin/locations/{own_place}/status"),
    ],
)
def test_it_refuses_deeply_nested_json_with_a_400(request, caplog, user, client_name, method, path):
    client = request.getfixturevalue(client_name)
    path = path.format(own_place=LocationFactory(submitter=user).pk)
    caplog.set_level(logging.INFO)
    response = getattr(client, method)(path, DEEP_JSON, content_type="application/json")
    body = assert_problem(response, 400)
    assert "nested deeper than" in body["detail"]
    _assert_logged_as_one_warning_without_traceback(caplog)


def test_it_refuses_json_nested_deeper_than_the_bound_that_still_parses(api_client):
    nested = {"username": "x", "password": "y"}
    for _ in range(MAX_JSON_DEPTH):
        nested = {"a": nested}
    response = api_client.post("/api/v1/auth/token", nested, format="json")
    assert "nested deeper than" in assert_problem(response, 400)["detail"]


def test_it_accepts_json_as_deep_as_the_bound(api_client):
    # 2 levels of a field holding a list of lists: far below MAX_JSON_DEPTH.
    response = api_client.post(
        "/api/v1/auth/token", {"username": [["x"]], "password": "y"}, format="json"
    )
    body = assert_problem(response, 400)
    assert "username" in body["errors"]


def test_it_refuses_a_json_body_over_the_upload_limit_with_a_413(api_client, caplog, settings):
    caplog.set_level(logging.INFO)
    big = json.dumps({"username": "a" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1)})
    response = api_client.post("/api/v1/auth/token", big, content_type="application/json")
    body = assert_problem(response, 413)
    assert f"{settings.DATA_UPLOAD_MAX_MEMORY_SIZE:,} bytes" in body["detail"]
    _assert_logged_as_one_warning_without_traceback(caplog)


def test_an_oversized_form_outside_the_api_is_a_413(client, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1024
    response = client.post(
        "/admin/login/", "username=" + "a" * 2048, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 413


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/nothing-here",
        "/api/v1/locations/42",
        "/api/v1/categories/",  # a trailing slash
        "/api/v1",
        "/api/unknown",  # outside any version
        "/api/v2/locations",
        "/api",
    ],
)
@pytest.mark.parametrize("debug", [False, True])
def test_every_unknown_api_path_is_a_problem_404(api_client, settings, path, debug):
    settings.DEBUG = debug
    body = assert_problem(api_client.get(path, HTTP_X_REQUEST_ID="probe-404"), 404)
    assert body["request_id"] == "probe-404"
    # Any method: never CSRF's HTML 403 or a 405.
    assert_problem(api_client.post(path, {}, format="json"), 404)


def test_a_forged_x_forwarded_for_does_not_escape_a_per_ip_throttle(api_client):
    from rest_framework.settings import api_settings
    from rest_framework.throttling import SimpleRateThrottle

    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "auth": "2/minute"}
    original = SimpleRateThrottle.THROTTLE_RATES
    SimpleRateThrottle.THROTTLE_RATES = rates
    try:
        statuses = [
            api_client.post(
                "/api/v1/auth/token",
                {"username": "a", "password": "b"},
                HTTP_X_FORWARDED_FOR=f"203.0.113.{attempt}",
            ).status_code
            for attempt in range(3)
        ]
    finally:
        SimpleRateThrottle.THROTTLE_RATES = original
    assert statuses[:2] != [429, 429]
    assert statuses[2] == 429


def test_brackets_inside_strings_do_not_count_towards_the_depth(api_client):
    # 100 opening brackets inside a string value (with an escaped quote) nest nothing.
    response = api_client.post(
        "/api/v1/auth/token",
        '{"username": "\\"' + "[{" * 100 + '", "password": "y"}',
        content_type="application/json",
    )
    assert assert_problem(response, 400)["detail"] != ""
    assert "nested deeper" not in response.json()["detail"]


def test_it_refuses_nan_in_json(api_client):
    response = api_client.post(
        "/api/v1/auth/token", '{"username": NaN, "password": "y"}', content_type="application/json"
    )
    assert "JSON parse error" in assert_problem(response, 400)["detail"]
