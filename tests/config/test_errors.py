"""The one problem handler maps every domain error (config/errors.py) and Django's own
exceptions, with the same bodies the views' hand-written mappings produced."""

import random

import pytest

from tests.support import other_session

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.config.urls_errors")]

PROBLEM = "application/problem+json"
BASE = "https://placemap.dev/problems/"


def problem(api_client, name):
    response = api_client.get(f"/api/v1/test/raise/{name}")
    assert response["Content-Type"] == PROBLEM, response.content
    body = response.json()
    assert body.pop("request_id") == response["X-Request-ID"]
    return response, body


@pytest.mark.parametrize(
    ("name", "status", "type_", "title", "detail"),
    [
        ("not_found", 404, "not-found", "Not Found", "Not found."),
        ("conflict", 409, "conflict", "Conflict", "Already approved."),
        (
            "unprocessable",
            422,
            "unprocessable",
            "Unprocessable Entity",
            "The request cannot be processed.",
        ),
        ("gone", 410, "gone", "Gone", "This export has expired."),
        (
            "dependency",
            503,
            "service-unavailable",
            "Service Unavailable",
            "A service Placemap depends on is unavailable; retry later.",
        ),
        (
            "database",
            503,
            "service-unavailable",
            "Service Unavailable",
            "The database is unavailable; retry later.",
        ),
        ("does_not_exist", 404, "not-found", "Not Found", "Not found."),
        ("http404", 404, "not-found", "Not Found", "Not found."),
    ],
)
def test_each_domain_error_is_its_problem(api_client, name, status, type_, title, detail):
    response, body = problem(api_client, name)
    assert response.status_code == status
    assert body == {"type": BASE + type_, "title": title, "status": status, "detail": detail}


def test_a_dependency_that_is_away_says_when_to_come_back(api_client):
    response, _ = problem(api_client, "dependency")
    assert response["Retry-After"] == "5"
    response, body = problem(api_client, "dependency_retry_7")
    assert response["Retry-After"] == "7"
    assert body["detail"] == "Photo storage is unavailable; retry later."


def test_a_refusal_that_is_not_a_dependency_has_no_retry_after(api_client):
    response, _ = problem(api_client, "conflict")
    assert "Retry-After" not in response


def test_a_field_error_names_its_field(api_client):
    response, body = problem(api_client, "field")
    assert response.status_code == 400
    assert body["type"] == BASE + "validation-error"
    assert body["errors"] == {"username": ["This username is already taken."]}
    assert body["detail"] == "username: This username is already taken."


def test_a_field_error_of_another_status_keeps_its_own_type(api_client):
    response, body = problem(api_client, "field_415")
    assert response.status_code == 415
    assert body["type"] == BASE + "unsupported-media-type"
    assert body["errors"] == {"file": ["Send a JPEG, PNG or WebP image."]}


def test_djangos_validation_error_is_a_400_naming_each_field(api_client):
    response, body = problem(api_client, "django_validation")
    assert response.status_code == 400
    assert body["errors"] == {"name": ["Give the place a name."]}
    response, body = problem(api_client, "django_validation_plain")
    assert response.status_code == 400
    assert body["errors"] == {"non_field_errors": ["Out of range."]}


def test_djangos_permission_denied_keeps_its_reason(api_client):
    response, body = problem(api_client, "django_permission")
    assert response.status_code == 403
    assert body["detail"] == "Only moderators decide on places."


@pytest.mark.parametrize(
    ("new", "old"),
    [
        ("not_found", "drf_not_found"),
        ("does_not_exist", "drf_not_found"),
        ("conflict", "drf_conflict"),
        ("unprocessable", "drf_unprocessable"),
        ("dependency", "drf_service_unavailable"),
        ("dependency_retry_7", "drf_service_unavailable_7"),
        ("field", "drf_field"),
        ("field_415", "drf_field_415"),
        ("errors", "drf_errors"),
        ("django_validation", "drf_validation"),
        ("django_permission", "drf_permission"),
    ],
)
def test_a_domain_error_reads_exactly_as_the_views_mapping_did(api_client, new, old):
    new_response, new_body = problem(api_client, new)
    old_response, old_body = problem(api_client, old)
    assert new_response.status_code == old_response.status_code
    assert new_body == old_body
    assert new_response.get("Retry-After") == old_response.get("Retry-After")


def test_a_lock_held_by_maintenance_is_a_503_saying_so(api_client):
    key = random.randint(1, 2**31)
    with other_session(autocommit=True) as maintenance:
        maintenance.execute("SELECT pg_advisory_lock(%s)", [key])
        response, body = problem(api_client, f"lock_{key}")
    assert response.status_code == 503
    assert body["detail"] == "The data is locked by maintenance; retry shortly."
    assert response["Retry-After"] == "5"
