"""CORS (django-cors-headers, docs/web-clients.md): pages on CORS_ALLOWED_ORIGINS may call
/api/ with a token; no cookies cross-origin; production refuses a wildcard."""

import pytest
from rest_framework.authtoken.models import Token

from tests.config.test_production_secrets import PRODUCTION, start

pytestmark = pytest.mark.django_db

MAP_APP = "https://map.example.org"


@pytest.fixture(autouse=True)
def _map_app_allowed(settings):
    settings.CORS_ALLOWED_ORIGINS = [MAP_APP]


def preflight(client, path: str, origin: str, headers: str = "authorization"):
    return client.options(
        path,
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
        HTTP_ACCESS_CONTROL_REQUEST_HEADERS=headers,
    )


def test_a_preflight_from_an_allowed_origin_is_answered_with_what_it_may_send(client):
    response = preflight(
        client, "/api/v1/locations", MAP_APP, "authorization, content-type, idempotency-key"
    )

    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == MAP_APP
    allowed = {h.strip() for h in response["Access-Control-Allow-Headers"].split(",")}
    assert {
        "authorization",
        "content-type",
        "idempotency-key",
        "if-none-match",
        "x-request-id",
    } <= allowed
    assert "POST" in response["Access-Control-Allow-Methods"]
    # Cookies are never sent cross-origin: no credentials mode.
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize(
    "origin",
    ["https://evil.example.net", "http://map.example.org", "https://map.example.org:8443", "null"],
)
def test_a_preflight_from_another_origin_gets_no_cors_headers(client, origin):
    response = preflight(client, "/api/v1/locations", origin)

    assert "Access-Control-Allow-Origin" not in response
    assert "Access-Control-Allow-Headers" not in response


def test_with_the_default_setting_no_origin_is_allowed(client, settings):
    settings.CORS_ALLOWED_ORIGINS = []

    assert "Access-Control-Allow-Origin" not in preflight(client, "/api/v1/locations", MAP_APP)


def test_a_cross_origin_read_with_a_token_works_and_exposes_the_headers_clients_need(client, user):
    token = Token.objects.create(user=user).key

    response = client.get("/api/v1/me", HTTP_ORIGIN=MAP_APP, HTTP_AUTHORIZATION=f"Token {token}")

    assert response.status_code == 200
    assert response.json()["username"] == user.username
    assert response["Access-Control-Allow-Origin"] == MAP_APP
    exposed = {h.strip().lower() for h in response["Access-Control-Expose-Headers"].split(",")}
    assert exposed == {"x-request-id", "etag", "link", "retry-after", "deprecation", "sunset"}
    assert "Access-Control-Allow-Credentials" not in response


@pytest.mark.parametrize("path", ["/admin/login/", "/health"])
def test_only_api_paths_speak_cors(client, path):
    response = client.get(path, HTTP_ORIGIN=MAP_APP)

    assert "Access-Control-Allow-Origin" not in response


def test_production_refuses_to_start_with_a_wildcard_origin():
    result = start(
        "config.settings.production", **PRODUCTION, CORS_ALLOWED_ORIGINS="https://a.example,*"
    )

    assert result.returncode != 0
    assert "ImproperlyConfigured: CORS_ALLOWED_ORIGINS must not contain" in result.stderr


def test_production_starts_with_named_origins():
    result = start("config.settings.production", **PRODUCTION, CORS_ALLOWED_ORIGINS=MAP_APP)

    assert result.returncode == 0, result.stderr
