"""HTTP caching of API answers (config/http_cache.py): strong ETags and 304s on the public
reads, Cache-Control public for anonymous reads and private/no-store for everything a
user may see alone, no `Vary: Cookie` on anonymous or token reads."""

import pytest
from django.test import Client
from rest_framework.authtoken.models import Token

from locations.models import Location
from tests.locations.factories import LocationFactory
from tests.support import logged_in

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def place():
    return LocationFactory(approved=True)


def reads(place) -> list[str]:
    lon, lat = place.point.x, place.point.y
    return [
        f"{API}/locations/{place.pk}",
        f"{API}/locations/search?lat={lat}&lon={lon}&radius=1000",
        f"{API}/locations/viewport?bbox={lon - 1},{lat - 1},{lon + 1},{lat + 1}",
        f"{API}/categories",
    ]


def token_header(user) -> dict:
    return {"HTTP_AUTHORIZATION": f"Token {Token.objects.create(user=user).key}"}


def test_every_public_read_answers_a_repeated_request_with_304(client, place):
    for path in reads(place):
        first = client.get(path)
        etag = first["ETag"]
        assert first.status_code == 200 and etag.startswith('"') and len(etag) > 20, path

        again = client.get(path, HTTP_IF_NONE_MATCH=etag)

        assert again.status_code == 304, path
        assert again.content == b""
        assert again["ETag"] == etag
        assert again["Cache-Control"] == "public, max-age=30"


def test_head_is_answered_304_too(client, place):
    path = f"{API}/locations/{place.pk}"
    etag = client.get(path)["ETag"]

    assert client.head(path)["ETag"] == etag
    assert client.head(path, HTTP_IF_NONE_MATCH=etag).status_code == 304


def test_the_etag_changes_when_the_place_changes(client, place):
    path = f"{API}/locations/{place.pk}"
    search = reads(place)[1]
    before, before_search = client.get(path)["ETag"], client.get(search)["ETag"]

    Location.objects.filter(pk=place.pk).update(name="A new name for the place")

    changed = client.get(path, HTTP_IF_NONE_MATCH=before)
    assert changed.status_code == 200
    assert changed.json()["properties"]["name"] == "A new name for the place"
    assert changed["ETag"] != before
    assert client.get(search, HTTP_IF_NONE_MATCH=before_search).status_code == 200


def test_each_content_coding_has_its_own_strong_etag(client):
    LocationFactory.create_batch(30, approved=True)
    path = f"{API}/locations/viewport?bbox=-180,-85,180,85"
    plain = client.get(path)
    gzipped = client.get(path, HTTP_ACCEPT_ENCODING="gzip")
    brotli = client.get(path, HTTP_ACCEPT_ENCODING="br")

    etags = {plain["ETag"], gzipped["ETag"], brotli["ETag"]}
    assert len(etags) == 3
    assert not any(etag.startswith("W/") for etag in etags)
    # A 304 for the coding the client would get, not for another one.
    assert (
        client.get(
            path, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=gzipped["ETag"]
        ).status_code
        == 304
    )
    assert client.get(path, HTTP_IF_NONE_MATCH=gzipped["ETag"]).status_code == 200


def test_anonymous_public_reads_are_public_for_public_read_max_age(client, place, settings):
    settings.PUBLIC_READ_MAX_AGE = 120
    for path in reads(place):
        response = client.get(path)
        assert response["Cache-Control"] == "public, max-age=120", path
        assert "Cookie" not in response.get("Vary", ""), path


def test_token_reads_of_public_lists_may_be_kept_by_the_callers_cache_only(client, place, user):
    auth = token_header(user)
    for path in reads(place)[1:]:
        response = client.get(path, **auth)
        assert response["Cache-Control"] == "private, max-age=30", path
        assert "Cookie" not in response.get("Vary", ""), path
        assert client.get(path, HTTP_IF_NONE_MATCH=response["ETag"], **auth).status_code == 304


def test_a_token_read_of_a_place_is_never_stored(client, place, user):
    # The same view shows its owner and moderators a pending place.
    response = client.get(f"{API}/locations/{place.pk}", **token_header(user))

    assert response["Cache-Control"] == "private, no-store"
    assert "Cookie" not in response.get("Vary", "")


def test_an_owners_pending_place_is_private_and_its_404_to_others_is_not_stored(client, user):
    pending = LocationFactory(submitter=user, status="pending")
    path = f"{API}/locations/{pending.pk}"

    assert client.get(path, **token_header(user))["Cache-Control"] == "private, no-store"
    anonymous = client.get(path)
    assert anonymous.status_code == 404
    assert anonymous["Cache-Control"] == "private, no-store"
    assert "ETag" not in anonymous


@pytest.mark.parametrize(
    "path",
    [f"{API}/me", f"{API}/me/locations", f"{API}/admin/locations", f"{API}/me/export"],
)
def test_user_specific_reads_are_never_stored(client, moderator, path):
    response = client.get(path, **token_header(moderator))

    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "ETag" not in response
    assert "Cookie" not in response.get("Vary", "")


def test_writes_and_errors_are_never_stored(client, user):
    token = client.post(
        f"{API}/auth/token",
        {"username": user.username, "password": "a wrong password"},
        content_type="application/json",
    )
    bad_search = client.get(f"{API}/locations/search?lat=999&lon=0")

    assert token["Cache-Control"] == "private, no-store"
    assert bad_search.status_code == 400
    assert bad_search["Cache-Control"] == "private, no-store"


def test_a_session_read_of_the_api_is_private_and_varies_by_cookie(moderator, place):
    # The browsable API of a moderator logged in to the admin: the session decides.
    browser = logged_in(moderator)
    response = browser.get(f"{API}/locations/search?lat=1&lon=1", HTTP_ACCEPT="application/json")

    assert response["Cache-Control"] == "private, max-age=30"
    assert "Cookie" in response["Vary"]


def test_anonymous_and_token_reads_do_not_touch_the_session(place, user):
    browser = Client()
    auth = token_header(user)
    for path in reads(place):
        for response in (browser.get(path), browser.get(path, **auth)):
            assert response.status_code == 200, path
            assert "Cookie" not in response.get("Vary", ""), path
            assert not response.cookies, path


def test_pages_outside_the_api_keep_their_own_headers(client):
    assert "Cache-Control" not in client.get("/health")
