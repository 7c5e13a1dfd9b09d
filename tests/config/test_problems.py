import uuid

import pytest

pytestmark = pytest.mark.django_db

PROBLEM = "application/problem+json"


def assert_problem(response, status):
    assert response.status_code == status
    assert response["Content-Type"] == PROBLEM
    body = response.json()
    assert body["status"] == status
    assert body["title"]
    assert body["type"].startswith("https://")
    assert body["detail"]
    assert body["request_id"] == response["X-Request-ID"]
    return body


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
