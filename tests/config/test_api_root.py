"""GET /api/v1/ (config/api_root.py), and problem+json for whatever else under /api/ has
no answer: unknown paths, wrong methods (405 with Allow), unsupported bodies (415)."""

import pytest

from tests.support import assert_problem

pytestmark = pytest.mark.django_db


def test_the_api_root_lists_the_resources_with_absolute_links(client, settings):
    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "api.example.org"]
    response = client.get("/api/v1/", HTTP_HOST="api.example.org")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["links"] == {
        "self": "http://api.example.org/api/v1/",
        "schema": "http://api.example.org/api/v1/schema",
        "docs": "http://api.example.org/api/docs",
        "redoc": "http://api.example.org/api/redoc",
    }
    resources = body["resources"]
    assert resources["locations_search"]["href"] == "http://api.example.org/api/v1/locations/search"
    assert resources["location"]["href"] == "http://api.example.org/api/v1/locations/{id}"
    assert resources["location"]["methods"] == ["GET", "PATCH", "DELETE"]
    assert {"categories", "locations", "locations_viewport", "me", "token"} <= set(resources)
    api = "http://api.example.org/api/v1"
    assert resources["tile"]["href"] == f"{api}/tiles/{{z}}/{{x}}/{{y}}.mvt"
    assert resources["moderation_flag"]["href"] == f"{api}/admin/flags/{{id}}"
    assert resources["user_suspend"]["href"] == f"{api}/admin/users/{{username}}/suspend"
    assert resources["ogc"]["href"] == f"{api}/ogc/"


def test_every_link_of_the_root_leads_somewhere(client):
    body = client.get("/api/v1/").json()
    for link in body["links"].values():
        assert client.get(link).status_code == 200, link
    for name, resource in body["resources"].items():
        href = resource["href"].format(
            id="1" if name == "moderation_flag" else "00000000-0000-0000-0000-000000000001",
            username="nobody",
            z=0,
            x=0,
            y=0,
        )
        # OPTIONS reaches the view itself; the catch-all would answer 404.
        assert client.options(href).status_code in (200, 401, 403), name


@pytest.mark.parametrize("method", ["get", "head", "options", "post", "delete"])
@pytest.mark.parametrize("path", ["/api/nothing", "/api/v1/nothing/", "/api/v1/categories/"])
def test_unknown_api_paths_are_problem_404_for_every_method(client, path, method):
    response = getattr(client, method)(path, HTTP_X_REQUEST_ID="probe-unknown")

    if method == "head":
        assert response.status_code == 404
        assert response["Content-Type"] == "application/problem+json"
    else:
        body = assert_problem(response, 404)
        assert body["request_id"] == "probe-unknown"


def test_a_wrong_method_is_a_problem_405_with_allow(client):
    response = client.delete("/api/v1/categories", HTTP_X_REQUEST_ID="probe-405")

    body = assert_problem(response, 405)
    assert body["request_id"] == "probe-405"
    assert set(response["Allow"].replace(" ", "").split(",")) == {"GET", "HEAD", "OPTIONS"}


def test_an_unsupported_body_is_a_problem_415(user_client):
    response = user_client.post(
        "/api/v1/locations", "name=x", content_type="text/plain", HTTP_X_REQUEST_ID="probe-415"
    )

    assert assert_problem(response, 415)["request_id"] == "probe-415"
