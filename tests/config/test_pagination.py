"""The one paginator (config.params.StrictLimitOffsetPagination): keyset cursors that
survive inserts, strict cursor input, offsets for v1 clients, and an index-served page."""

import datetime as dt

import pytest
from django.db import connection
from django.db.models import F
from django.utils import timezone

from config.params import cursor_decode, cursor_encode
from locations import selectors
from tests.locations.factories import LocationFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

URL = "/api/v1/me/locations"


def names(body) -> list[str]:
    return [feature["properties"]["name"] for feature in body["features"]]


@pytest.fixture
def five_places(user):
    start = timezone.now() - dt.timedelta(days=1)
    return [
        LocationFactory(submitter=user, name=f"Place {i}", created_at=start + dt.timedelta(i))
        for i in range(5)
    ]


def test_a_cursor_page_does_not_shift_when_places_are_added_before_it(
    user, user_client, five_places
):
    first = user_client.get(URL, {"limit": 2}).json()
    assert names(first) == ["Place 4", "Place 3"]

    # A newer place arrives: with offsets page 2 would repeat "Place 3".
    LocationFactory(submitter=user, name="Newest")
    second = user_client.get(first["next"]).json()

    assert names(second) == ["Place 2", "Place 1"]
    assert second["count"] == 6
    back = user_client.get(second["previous"]).json()
    assert names(back) == ["Place 4", "Place 3"]
    assert back["previous"] is not None  # "Newest" is before it now


def test_an_offset_page_links_onwards_by_cursor(user_client, five_places):
    response = user_client.get(URL, {"limit": 2, "offset": 2})
    body = response.json()

    assert names(body) == ["Place 2", "Place 1"]
    assert "cursor=" in body["next"] and "offset" not in body["next"]
    assert names(user_client.get(body["next"]).json()) == ["Place 0"]
    assert names(user_client.get(body["previous"]).json()) == ["Place 4", "Place 3"]
    assert response["Link"] == f'<{body["next"]}>; rel="next", <{body["previous"]}>; rel="prev"'


def test_the_first_and_last_pages_have_one_link_each(user_client, five_places):
    first = user_client.get(URL, {"limit": 3})
    assert first.json()["previous"] is None
    assert first["Link"] == f'<{first.json()["next"]}>; rel="next"'

    last = user_client.get(first.json()["next"])
    assert last.json()["next"] is None
    assert last["Link"] == f'<{last.json()["previous"]}>; rel="prev"'

    alone = user_client.get(URL, {"limit": 10})
    assert not alone.has_header("Link")


@pytest.mark.parametrize(
    "cursor",
    [
        "not base64 at all!",
        cursor_encode({"o": "-created_at,-id", "k": ["yesterday", "x"], "d": "next"}),
        cursor_encode({"o": "created_at,id", "k": ["2026-01-01T00:00:00+00:00", 1], "d": "next"}),
        cursor_encode({"o": "-created_at,-id", "k": [1], "d": "next"}),
        cursor_encode({"s": 10}),  # a search cursor
        cursor_encode([1, 2]),  # type: ignore[arg-type]
        "x" * 501,
    ],
)
def test_a_cursor_that_is_not_this_lists_is_a_400_naming_it(user_client, five_places, cursor):
    assert_problem(user_client.get(URL, {"cursor": cursor}), 400, field="cursor")


def test_a_cursor_and_an_offset_together_are_refused(user_client, five_places):
    cursor = user_client.get(URL, {"limit": 2}).json()["next"].split("cursor=")[1].split("&")[0]
    assert_problem(user_client.get(URL, {"cursor": cursor, "offset": 2}), 400, field="cursor")


def test_a_search_cursor_is_refused_by_a_keyset_list_and_vice_versa(api_client, user_client):
    keyset = cursor_encode({"o": "-created_at,-id", "k": [], "d": "next"})
    response = api_client.get("/api/v1/locations/search", {"q": "cafe", "cursor": keyset})
    assert_problem(response, 400, field="cursor")
    response = api_client.get(
        "/api/v1/locations/search", {"q": "cafe", "cursor": cursor_encode({"s": 10_001})}
    )
    assert_problem(response, 400, field="cursor")


def test_a_cursor_reads_its_page_through_the_lists_index(user, user_client, five_places):
    body = user_client.get(URL, {"limit": 2}).json()
    cursor = cursor_decode(body["next"].split("cursor=")[1].split("&")[0])
    assert cursor["o"] == "-created_at,-id"

    from config.params import StrictLimitOffsetPagination

    paginator = StrictLimitOffsetPagination()
    queryset = selectors.locations_of_submitter(user=user)
    paginator.ordering = paginator._keyset(queryset)
    page = queryset.filter(paginator._beyond(paginator._cursor_key(cursor), backwards=False))
    sql, params = page[:3].query.sql_with_params()
    with connection.cursor() as db:
        db.execute("SET LOCAL enable_seqscan = off")
        db.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in db.fetchall())
    assert "location_submitter_created" in plan, plan
    assert "created_at <=" in plan, plan  # the bound is an index condition


# A naive time must be made aware here, not left to Django's RuntimeWarning.
@pytest.mark.filterwarnings("error::RuntimeWarning")
@pytest.mark.parametrize(
    ("key", "status"),
    [
        (["2026-01-01T00:00:00+00:00", 10**30], 200),  # beyond bigint: still no 500
        (["2026-01-01T00:00:00", 1], 200),  # naive: read as UTC
        (["2026-01-01T00:00:00+00:00", "1\x00"], 400),
        (["2026-01-01T00:00:00+00:00", True], 400),
        ([{"a": 1}, 1], 400),
        (["2026-01-01T00:00:00+00:00", None], 400),
        (["2026-01-01T00:00:00+00:00", 1.5], 200),
    ],
)
def test_odd_keys_in_a_well_formed_cursor_are_never_a_server_error(
    moderator, moderator_client, key, status
):
    from moderation import services

    place = LocationFactory(approved=False, status="pending")
    services.location_approve(location_id=place.id, moderator=moderator)
    cursor = cursor_encode({"o": "created_at,id", "k": key, "d": "next"})

    response = moderator_client.get(f"/api/v1/admin/locations/{place.id}/log", {"cursor": cursor})

    if status == 400:
        assert_problem(response, 400, field="cursor")
    else:
        assert response.status_code == 200, response.content


def _page(paginator, queryset, **query):
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    request = Request(APIRequestFactory().get("/api/v1/things", query))
    return paginator.paginate_queryset(queryset, request), paginator


@pytest.mark.parametrize(
    "ordering",
    [
        (F("name").asc(), "id"),
        ("submitter__username", "id"),
        ("approved_at", "id"),
        ("?",),
    ],
    ids=["expression", "relation", "nullable", "random"],
)
def test_a_list_that_cannot_be_a_keyset_pages_by_offset(user, five_places, ordering):
    # Another app's list ordered by what a keyset cannot seek: offsets, the same envelope.
    from config.params import StrictLimitOffsetPagination
    from locations.models import Location

    queryset = Location.objects.filter(submitter=user).order_by(*ordering)
    page, paginator = _page(StrictLimitOffsetPagination(), queryset, limit=2, offset=2)
    assert len(page) == 2
    assert "offset=4" in paginator.next_url and "offset=0" in paginator.previous_url

    response = paginator.get_paginated_response([])
    assert (
        response["Link"]
        == f'<{paginator.next_url}>; rel="next", <{paginator.previous_url}>; rel="prev"'
    )
    with pytest.raises(Exception, match="cursor"):
        _page(StrictLimitOffsetPagination(), queryset, cursor=cursor_encode({"o": "", "k": []}))


def test_a_plain_list_pages_by_offset():
    from config.params import StrictLimitOffsetPagination

    page, paginator = _page(StrictLimitOffsetPagination(), list(range(5)), limit=2)
    assert page == [0, 1]
    assert paginator.previous_url is None and "offset=2" in paginator.next_url
