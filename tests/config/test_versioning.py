"""Deprecation and sunset of API versions (settings) and endpoints (decorator):
RFC 9745 Deprecation, RFC 8594 Sunset, Link to the policy, 410 Gone after the sunset."""

from datetime import UTC, date, datetime, timedelta

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpResponse
from django.test import RequestFactory

from config.versioning import DeprecationMiddleware, deprecated
from tests.config import versioning_urls
from tests.config.versioning_urls import LATER, LONG_AGO, SOON

POLICY = "https://placemap.dev/docs/api-versioning"


def _unix(day: date) -> int:
    return int(datetime.combine(day, datetime.min.time(), tzinfo=UTC).timestamp())


def _http_date(day: date) -> str:
    return datetime.combine(day, datetime.min.time(), tzinfo=UTC).strftime(
        "%a, %d %b %Y %H:%M:%S GMT"
    )


@pytest.fixture(autouse=True)
def _no_version_deprecations(settings):
    settings.API_DEPRECATIONS = {}
    settings.API_DEPRECATION_POLICY_URL = POLICY
    versioning_urls.calls.clear()


# --- A whole version, from settings --------------------------------------------------------


@pytest.mark.django_db  # /categories reads the categories' table
def test_a_deprecated_version_announces_its_deprecation_and_sunset(client, settings):
    settings.API_DEPRECATIONS = {"v1": {"deprecation": "2026-01-01", "sunset": LATER.isoformat()}}

    response = client.get("/api/v1/categories")

    assert response.status_code == 200
    assert response["Deprecation"] == "@1767225600"  # 2026-01-01T00:00:00Z
    assert response["Sunset"] == _http_date(LATER)
    assert response["Link"] == f'<{POLICY}>; rel="deprecation"'


@pytest.mark.django_db  # /categories reads the categories' table
def test_a_version_not_yet_deprecated_can_announce_a_future_deprecation(client, settings):
    settings.API_DEPRECATIONS = {"v1": {"deprecation": SOON}}

    response = client.get("/api/v1/categories")

    assert response.status_code == 200
    assert response["Deprecation"] == f"@{_unix(SOON)}"
    assert "Sunset" not in response


@pytest.mark.django_db  # /categories reads the categories' table
def test_a_version_past_its_sunset_is_gone_with_a_problem_document(client, settings):
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    settings.API_DEPRECATIONS = {"v1": {"deprecation": LONG_AGO, "sunset": yesterday}}

    response = client.get("/api/v1/categories")

    assert response.status_code == 410
    assert response["Content-Type"] == "application/problem+json"
    body = response.json()
    assert body["status"] == 410
    assert body["type"].endswith("/gone")
    assert yesterday.isoformat() in body["detail"]
    assert POLICY in body["detail"]
    assert response["Sunset"] == _http_date(yesterday)
    assert response["Link"] == f'<{POLICY}>; rel="deprecation"'
    # Even paths that never existed answer 410 under a retired version, not 404.
    assert client.get("/api/v1/no-such-thing").status_code == 410
    assert response["X-Request-ID"]


@pytest.mark.django_db  # /categories reads the categories' table
def test_requests_outside_deprecated_versions_are_untouched(client, settings):
    settings.API_DEPRECATIONS = {"v7": {"deprecation": LONG_AGO, "sunset": SOON}}

    for path in ("/api/v1/categories", "/health"):
        response = client.get(path)
        assert response.status_code == 200
        assert "Deprecation" not in response
        assert "Sunset" not in response


@pytest.mark.parametrize(
    ("config", "message"),
    [
        ({"v1": {"sunset": "2027-01-01"}}, "needs at least a 'deprecation'"),
        ({"v1": {"deprecation": "next year"}}, "not an ISO 8601 date"),
        ({"v1": {"deprecation": "2027-06-01", "sunset": "2027-01-01"}}, "sunset comes before"),
        ({"v1": {"deprecation": "2027-01-01", "sunst": "2027-06-01"}}, "unknown keys"),
        ({"version1": {"deprecation": "2027-01-01"}}, "named v1, v2"),
        ({"v1": {"deprecation": datetime(2027, 1, 1)}}, "timezone-aware"),
    ],
)
def test_a_bad_deprecation_setting_fails_at_start_up(settings, config, message):
    settings.API_DEPRECATIONS = config
    with pytest.raises(ImproperlyConfigured, match=message):
        DeprecationMiddleware(lambda request: HttpResponse())


# --- One endpoint, with the decorator ---------------------------------------------------------


@pytest.mark.urls("tests.config.versioning_urls")
def test_a_deprecated_view_class_says_so_and_still_works(client):
    response = client.get("/api/v2/old-thing")

    assert response.status_code == 200
    assert response["Deprecation"] == f"@{_unix(LONG_AGO)}"
    assert response["Sunset"] == _http_date(LATER)
    assert response["Link"] == f'<{POLICY}>; rel="deprecation"'
    assert versioning_urls.calls == ["old-thing"]


@pytest.mark.urls("tests.config.versioning_urls")
def test_a_deprecated_method_marks_only_that_method(client):
    get = client.get("/api/v2/mixed")
    delete = client.delete("/api/v2/mixed")

    assert "Deprecation" not in get
    assert delete.status_code == 204
    assert delete["Sunset"] == _http_date(SOON)
    assert delete["Link"] == '<https://example.test/no-more-delete>; rel="deprecation"'


@pytest.mark.urls("tests.config.versioning_urls")
def test_an_endpoint_past_its_sunset_is_gone_and_its_view_never_runs(client):
    response = client.get("/api/v2/retired")

    assert response.status_code == 410
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["detail"].startswith("This endpoint was retired on ")
    assert versioning_urls.calls == []


@pytest.mark.urls("tests.config.versioning_urls")
def test_our_link_is_added_to_the_links_a_view_already_sends(client, settings):
    settings.API_DEPRECATIONS = {"v2": {"deprecation": LONG_AGO}}

    response = client.get("/api/v2/current")

    assert (
        response["Link"] == f'</api/v2/current?page=2>; rel="next", <{POLICY}>; rel="deprecation"'
    )


@pytest.mark.urls("tests.config.versioning_urls")
def test_an_endpoint_in_a_deprecated_version_gets_the_earlier_sunset(client, settings):
    settings.API_DEPRECATIONS = {"v2": {"deprecation": SOON, "sunset": SOON + timedelta(days=5)}}

    old_thing = client.get("/api/v2/old-thing")  # endpoint: LONG_AGO .. LATER
    mixed = client.get("/api/v2/mixed")  # version only

    assert old_thing["Deprecation"] == f"@{_unix(LONG_AGO)}"
    assert old_thing["Sunset"] == _http_date(SOON + timedelta(days=5))
    assert mixed["Deprecation"] == f"@{_unix(SOON)}"


def test_the_decorator_refuses_a_sunset_before_the_deprecation():
    with pytest.raises(ImproperlyConfigured, match="sunset comes before"):
        deprecated(deprecation=SOON, sunset=LONG_AGO)


def test_the_decorator_marks_a_function_view_without_changing_it():
    def view(request):
        return HttpResponse("hi")

    marked = deprecated(deprecation=LONG_AGO)(view)
    assert marked is view
    assert marked(RequestFactory().get("/")).content == b"hi"
