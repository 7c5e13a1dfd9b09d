import logging
import re

import pytest
import structlog
from asgiref.sync import async_to_sync
from django.conf import settings
from django.test import AsyncClient
from rest_framework.test import APIClient

from config.logging import (
    DJANGO_STRUCTLOG_REQUEST_LOGGER,
    SUPERSEDED_EVENT,
    drop_superseded_request_lines,
)
from config.middleware import REQUEST_ID_HEADER

pytestmark = pytest.mark.django_db

GENERATED_ID = re.compile(r"^[0-9a-f]{32}$")


def test_the_request_id_middleware_runs_before_django_structlogs():
    # The other way round, django-structlog would bind the raw incoming header.
    assert settings.MIDDLEWARE.index("config.middleware.RequestIDMiddleware") + 1 == (
        settings.MIDDLEWARE.index("django_structlog.middlewares.RequestMiddleware")
    )
    assert settings.DJANGO_STRUCTLOG_TRUST_UPSTREAM_REQUEST_ID is True


def test_a_request_writes_exactly_one_json_access_line_with_its_request_id(user_client, user, logs):
    response = user_client.get("/api/v1/me", HTTP_X_REQUEST_ID="client-7.a_B")

    assert response.status_code == 200
    assert response[REQUEST_ID_HEADER] == "client-7.a_B"
    access = logs.events("request_finished")
    assert len(access) == 1
    line = access[0]
    assert line["request_id"] == "client-7.a_B"
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/me"
    assert line["status"] == 200
    assert line["user_id"] == user.pk
    assert isinstance(line["duration_ms"], float) and line["duration_ms"] >= 0
    assert line["level"] == "info"
    assert line["logger"] == DJANGO_STRUCTLOG_REQUEST_LOGGER
    # Shaped into separate fields; no client IP (personal data, and spoofable).
    assert not {"code", "request", "ip"} & set(line)
    # Every line written during the request carries its id, not only the access line.
    assert all(entry.get("request_id") == "client-7.a_B" for entry in logs.lines())


def test_at_info_a_request_writes_nothing_but_its_access_line(user_client, user, logs):
    logging.getLogger().setLevel(logging.INFO)  # production's level; the fixture restores it

    user_client.get("/api/v1/me")

    (line,) = logs.lines()
    assert line["event"] == "request_finished"


def test_request_started_is_a_debug_line_with_the_same_fields(user_client, logs):
    response = user_client.get("/api/v1/categories", {"lang": "en"})

    (started,) = logs.events("request_started")
    assert started["level"] == "debug"
    assert (started["method"], started["path"], started["query"]) == (
        "GET",
        "/api/v1/categories",
        "lang=en",
    )
    assert started["request_id"] == response[REQUEST_ID_HEADER]


def test_each_request_gets_its_own_generated_id(api_client, logs):
    first = api_client.get("/api/v1/categories")
    second = api_client.get("/api/v1/categories")

    ids = [first[REQUEST_ID_HEADER], second[REQUEST_ID_HEADER]]
    assert all(GENERATED_ID.fullmatch(request_id) for request_id in ids)
    assert ids[0] != ids[1]
    assert [line["request_id"] for line in logs.events("request_finished")] == ids


def test_a_problem_response_logs_a_warning_with_the_id_from_its_body(api_client, logs):
    response = api_client.get("/api/v1/me")

    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"
    request_id = response.json()["request_id"]
    assert request_id == response[REQUEST_ID_HEADER]
    (line,) = logs.events("request_finished")
    assert line["request_id"] == request_id
    assert line["status"] == 401
    assert line["level"] == "warning"
    assert line["user_id"] is None


@pytest.mark.parametrize(
    "incoming",
    [
        "a" * 129,
        "has space",
        "line\nbreak",
        "<script>alert(1)</script>",
        "semi;colon",
        "caf\u00e9",
        "",
    ],
    ids=["too-long", "space", "newline", "markup", "semicolon", "non-ascii", "empty"],
)
def test_it_replaces_an_insane_incoming_id_and_never_echoes_it(api_client, logs, incoming):
    response = api_client.get("/api/v1/nowhere", HTTP_X_REQUEST_ID=incoming)

    assert response.status_code == 404
    replaced = response[REQUEST_ID_HEADER]
    assert GENERATED_ID.fullmatch(replaced)
    assert response.json()["request_id"] == replaced
    (line,) = logs.events("request_finished")
    assert line["request_id"] == replaced
    # request_started (DEBUG) included: django-structlog only ever saw the replacement.
    assert {entry["request_id"] for entry in logs.lines()} == {replaced}
    if incoming:
        assert incoming not in logs.text
        assert incoming not in response.content.decode()


@pytest.mark.urls("tests.config.observability.urls")
def test_views_see_the_sanitised_id_in_the_request_header(api_client):
    response = api_client.get("/api/v1/echo-request-id", HTTP_X_REQUEST_ID="bad id")

    assert response.json() == {"header": response[REQUEST_ID_HEADER]}


def test_it_keeps_a_sane_id_of_exactly_128_characters(api_client, logs):
    incoming = "A1._-" * 25 + "xyz"
    assert len(incoming) == 128

    response = api_client.get("/api/v1/categories", HTTP_X_REQUEST_ID=incoming)

    assert response[REQUEST_ID_HEADER] == incoming
    assert logs.events("request_finished")[0]["request_id"] == incoming


def test_a_streamed_export_is_logged_once_after_its_last_byte(api_client, logs):
    response = api_client.get("/api/v1/locations/export", {"format": "geojson"})
    assert response.status_code == 200
    assert response.streaming
    assert logs.events("request_finished") == []

    b"".join(response.streaming_content)

    (line,) = logs.events("request_finished")
    assert line["streamed"] is True
    assert line["stream_completed"] is True
    assert (line["status"], line["level"]) == (200, "info")
    assert line["path"] == "/api/v1/locations/export"
    assert line["query"] == "format=geojson"
    assert line["request_id"] == response[REQUEST_ID_HEADER]
    assert isinstance(line["duration_ms"], float)
    # django-structlog's own end-of-stream line is what this one replaces.
    assert logs.events("streaming_finished") == []


def test_under_asgi_an_async_stream_is_logged_once_after_its_last_byte(logs):
    async def download():
        response = await AsyncClient().get(
            "/api/v1/locations/export", {"format": "csv"}, headers={"X-Request-ID": "asgi-7"}
        )
        before = logs.events("request_finished")
        body = b"".join([chunk async for chunk in response.streaming_content])
        return response, before, body

    response, before, body = async_to_sync(download)()

    assert response.is_async and body.startswith(b"id,")
    assert before == []
    (line,) = logs.events("request_finished")
    assert (line["request_id"], line["streamed"], line["stream_completed"]) == (
        "asgi-7",
        True,
        True,
    )
    assert logs.events("streaming_finished") == []


def test_a_download_the_client_abandons_is_logged_as_incomplete(api_client, logs):
    response = api_client.get("/api/v1/locations/export", {"format": "geojson"})
    next(iter(response.streaming_content))

    response.close()  # what the server does when the client goes away

    (line,) = logs.events("request_finished")
    assert (line["stream_completed"], line["level"]) == (False, "warning")
    assert line["request_id"] == response[REQUEST_ID_HEADER]


@pytest.mark.urls("tests.config.observability.urls")
def test_an_unexpected_error_logs_its_traceback_under_the_request_id(api_client, logs):
    response = api_client.get("/api/v1/broken", HTTP_X_REQUEST_ID="boom-1")

    assert response.status_code == 500
    assert response.json()["request_id"] == "boom-1"
    (error,) = [line for line in logs.lines() if "exception" in line]
    assert error["request_id"] == "boom-1"
    assert "RuntimeError: the database said no" in error["exception"]
    assert "hunter2-hunter2" not in logs.text
    (access,) = logs.events("request_finished")
    assert (access["status"], access["level"], access["request_id"]) == (500, "error", "boom-1")


@pytest.mark.urls("tests.config.observability.urls")
def test_an_exception_outside_drf_is_logged_once_as_request_failed_with_its_traceback(logs):
    client = APIClient(raise_request_exception=False)

    response = client.get("/api/v1/broken-plain", HTTP_X_REQUEST_ID="boom-2")

    assert response.status_code == 500
    assert response.json()["request_id"] == "boom-2"
    (failed,) = [line for line in logs.lines() if "exception" in line]
    assert failed["event"] == "request_failed"
    assert (failed["status"], failed["level"], failed["request_id"]) == (500, "error", "boom-2")
    assert (failed["method"], failed["path"]) == ("GET", "/api/v1/broken-plain")
    assert isinstance(failed["duration_ms"], float)
    assert "RuntimeError: the cache said no" in failed["exception"]
    assert "hunter2-hunter2" not in logs.text
    # It is the access line: no request_finished, and django.request does not repeat it.
    assert logs.events("request_finished") == []
    assert not [line for line in logs.lines() if line["logger"] == "django.request"]


@pytest.mark.parametrize(
    ("logger_name", "event", "extra", "dropped"),
    [
        (DJANGO_STRUCTLOG_REQUEST_LOGGER, "request_finished", {SUPERSEDED_EVENT: True}, True),
        (DJANGO_STRUCTLOG_REQUEST_LOGGER, "request_finished", {}, False),
        (DJANGO_STRUCTLOG_REQUEST_LOGGER, "streaming_finished", {}, True),
        (DJANGO_STRUCTLOG_REQUEST_LOGGER, "streaming_cancelled", {}, True),
        (DJANGO_STRUCTLOG_REQUEST_LOGGER, "streaming_failed", {}, False),
        ("locations.exports", "streaming_finished", {}, False),
    ],
)
def test_only_the_lines_the_deferred_access_line_replaces_are_dropped(
    logger_name, event, extra, dropped
):
    event_dict = {"event": event, **extra}

    if dropped:
        with pytest.raises(structlog.DropEvent):
            drop_superseded_request_lines(logging.getLogger(logger_name), "info", event_dict)
    else:
        assert drop_superseded_request_lines(
            logging.getLogger(logger_name), "info", event_dict
        ) == {"event": event}
