"""A query parameter that is sent must be valid, on every list: never silently the
default (config.params)."""

import pytest

from moderation import services
from tests.locations.factories import LocationFactory

API = "/api/v1"
BAD_PAGES = [
    ("limit", "-1"),
    ("limit", "0"),
    ("limit", "1e9"),
    ("limit", "201"),
    ("limit", ""),
    ("offset", "abc"),
    ("offset", "-1"),
    ("offset", "10001"),
    ("offset", "99999999999999999999999"),
]


def _assert_refused(response, parameter):
    assert response.status_code == 400, response.content[:300]
    assert response["Content-Type"] == "application/problem+json"
    assert list(response.json()["errors"]) == [parameter]


@pytest.mark.parametrize(("parameter", "value"), BAD_PAGES)
def test_my_places_refuse_a_bad_page_parameter(user_client, parameter, value):
    _assert_refused(user_client.get(f"{API}/me/locations", {parameter: value}), parameter)


@pytest.mark.parametrize(("parameter", "value"), BAD_PAGES)
def test_the_moderation_queue_refuses_a_bad_page_parameter(moderator_client, parameter, value):
    _assert_refused(moderator_client.get(f"{API}/admin/locations", {parameter: value}), parameter)


def test_the_moderation_log_refuses_a_bad_page_parameter(moderator_client, moderator):
    place = LocationFactory()
    services.location_approve(location_id=place.id, moderator=moderator)

    url = f"{API}/admin/locations/{place.id}/log"
    assert moderator_client.get(url, {"limit": "1"}).status_code == 200
    _assert_refused(moderator_client.get(url, {"limit": "0"}), "limit")


def test_valid_page_parameters_still_page(user, user_client):
    for index in range(3):
        LocationFactory(submitter=user, name=f"Place {index}")

    body = user_client.get(f"{API}/me/locations", {"limit": "2", "offset": "1"}).json()

    assert body["count"] == 3
    assert len(body["features"]) == 2
    assert body["next"] is None
    assert "limit=2" in body["previous"]


def test_the_moderation_queue_refuses_an_empty_status(moderator_client):
    _assert_refused(moderator_client.get(f"{API}/admin/locations?status="), "status")


def test_the_export_refuses_an_empty_format(api_client, db):
    _assert_refused(api_client.get(f"{API}/locations/export?format="), "format")


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("lat=&lon=13&q=x", "lat"),
        ("q=x&ordering=", "ordering"),
        ("q=x&radius=", "radius"),
        ("q=x&category=", "category"),
        ("q=x&limit=", "limit"),
    ],
)
def test_search_refuses_an_empty_parameter(api_client, db, query, parameter):
    _assert_refused(api_client.get(f"{API}/locations/search?{query}"), parameter)


@pytest.mark.parametrize("query", ["bbox=1,1,2,2&zoom=", "bbox=1,1,2,2&limit=", "bbox="])
def test_the_viewport_refuses_an_empty_parameter(api_client, db, query):
    response = api_client.get(f"{API}/locations/viewport?{query}")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"


def test_an_empty_text_query_is_still_allowed(api_client, db):
    assert api_client.get(f"{API}/locations/search?lat=1&lon=1&q=").status_code == 200


def test_query_parameter_fields_are_copied_not_rebuilt_per_request(monkeypatch):
    """Each serializer binds copies of the declared fields (its own field_name and
    parent), without building them again (DRF's deepcopy re-runs every field's
    __init__); a field with a child is still copied deeply."""
    from rest_framework import serializers

    from config.params import QueryParamsSerializer

    class Params(QueryParamsSerializer):
        limit = serializers.IntegerField(min_value=1, max_value=10, required=False)
        ids = serializers.ListField(child=serializers.IntegerField(), required=False)

    rebuilt = []
    deepcopy = serializers.Field.__deepcopy__
    monkeypatch.setattr(
        serializers.Field,
        "__deepcopy__",
        lambda self, memo: rebuilt.append(type(self).__name__) or deepcopy(self, memo),
    )
    first, second = Params(data={"limit": "3"}), Params(data={"limit": "11"})
    assert first.is_valid() and first.validated_data == {"limit": 3}
    assert not second.is_valid() and "limit" in second.errors
    assert first.fields["limit"] is not second.fields["limit"]
    assert first.fields["limit"].parent is first and second.fields["limit"].parent is second
    assert Params._declared_fields["limit"].parent is None  # the declaration stays unbound
    # Only the ListField (with its child) was deep-copied, once per serializer; the
    # IntegerField of `limit` was not rebuilt (the child is an IntegerField too: 2).
    assert rebuilt.count("ListField") == 2
    assert rebuilt.count("IntegerField") == 2
