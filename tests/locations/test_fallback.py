"""When Postgres times out or is unreachable, search and viewport serve the last answer
to the same question from Redis, marked stale; with none, 503 + Retry-After. Never 500.

These tests commit (transaction=True): a second connection must see the rows and hold a
real lock on the table, so that the API's statement really waits and really times out."""

from contextlib import contextmanager

import pytest
from django.db import connection

from config.redis import redis_client
from tests.locations.conftest import API
from tests.support import other_session

pytestmark = pytest.mark.django_db(transaction=True)

LON, LAT = 13.4132, 52.5219
SEARCH = f"{API}/locations/search?lat={LAT}&lon={LON}&radius=2000&category=park,cafe"
# The same question, spelled differently: same normalized key.
SEARCH_REORDERED = (
    f"{API}/locations/search?category=cafe&category=park&lon={LON}&lat={LAT}&radius=2000"
)
VIEWPORT = f"{API}/locations/viewport?bbox=13.0,52.3,13.8,52.7&limit=1"


@contextmanager
def locations_table_locked():
    """Another session holds ACCESS EXCLUSIVE on the table, as a long migration would."""
    with other_session() as blocker:
        blocker.execute("LOCK TABLE locations_location IN ACCESS EXCLUSIVE MODE")
        try:
            yield
        finally:
            blocker.rollback()


@pytest.fixture
def two_places(user, place_of):
    place_of(user, lon=LON, lat=LAT + 0.001, category="park")
    place_of(user, lon=LON + 0.001, lat=LAT, category="cafe")


@pytest.mark.parametrize(("first", "again"), [(SEARCH, SEARCH_REORDERED), (VIEWPORT, VIEWPORT)])
def test_a_timed_out_read_serves_the_last_answer_marked_stale(
    api_client, two_places, settings, first, again
):
    fresh = api_client.get(first)
    assert fresh.status_code == 200
    assert "X-Cache-Stale" not in fresh

    settings.PLACES_STATEMENT_TIMEOUT_MS = 200
    with locations_table_locked():
        stale = api_client.get(again)

    assert stale.status_code == 200
    assert stale["X-Cache-Stale"] == "true"
    assert 0 <= int(stale["Age"]) < 60
    assert stale.json() == fresh.json()
    # A stale copy is never kept as fresh (config/http_cache.py), nor revalidated.
    assert fresh["Cache-Control"].startswith("public")
    assert stale["Cache-Control"] == "private, no-store"
    assert "ETag" not in stale
    assert len(stale.json()["features"]) >= 1


def test_a_timed_out_read_without_a_cached_answer_is_503_with_retry_after(
    api_client, two_places, settings
):
    settings.PLACES_STATEMENT_TIMEOUT_MS = 200
    settings.PLACES_RETRY_AFTER_SECONDS = 7
    with locations_table_locked():
        response = api_client.get(SEARCH)

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert response["Retry-After"] == "7"


def test_the_statement_timeout_is_what_stops_the_wait(api_client, two_places, settings):
    """Without the timeout the request would hang behind the lock; with it, the answer
    comes back promptly."""
    import time

    settings.PLACES_STATEMENT_TIMEOUT_MS = 300
    with locations_table_locked():
        started = time.monotonic()
        response = api_client.get(VIEWPORT)
        elapsed = time.monotonic() - started

    assert response.status_code == 503
    assert 0.3 <= elapsed < 3


def test_an_unreachable_database_serves_the_cached_answer(api_client, two_places):
    fresh = api_client.get(SEARCH)
    assert fresh.status_code == 200

    original_port = connection.settings_dict["PORT"]
    connection.close()
    connection.settings_dict["PORT"] = "1"  # nothing listens there
    try:
        stale = api_client.get(SEARCH_REORDERED)
        missing = api_client.get(f"{API}/locations/search?q=never+asked")
    finally:
        connection.close()
        connection.settings_dict["PORT"] = original_port

    assert stale.status_code == 200
    assert stale["X-Cache-Stale"] == "true"
    assert stale.content == fresh.content
    assert missing.status_code == 503
    assert "Retry-After" in missing


def test_a_timed_out_detail_read_is_503_not_500(api_client, user, place_of, settings):
    place = place_of(user)
    settings.PLACES_STATEMENT_TIMEOUT_MS = 200

    with locations_table_locked():
        response = api_client.get(f"{API}/locations/{place.id}")

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert "Retry-After" in response


def test_with_copies_turned_off_an_outage_is_503(api_client, two_places, settings):
    settings.PLACES_STALE_CACHE_SECONDS = 0
    assert api_client.get(VIEWPORT).status_code == 200

    settings.PLACES_STATEMENT_TIMEOUT_MS = 200
    with locations_table_locked():
        response = api_client.get(VIEWPORT)

    assert response.status_code == 503


def test_the_fallback_copy_is_refreshed_at_most_once_per_window(
    api_client, two_places, user, place_of
):
    from django.core.cache import cache

    first = api_client.get(SEARCH)
    assert len(first.json()["features"]) == 2
    place_of(user, lon=LON, lat=LAT - 0.001, category="park")
    second = api_client.get(SEARCH)
    assert len(second.json()["features"]) == 3  # the live answer is always fresh

    keys = list(redis_client().scan_iter(match=f"{cache.key_prefix}:*places:answer:*:search:*"))
    copy_key = next(k.decode().split(":", 2)[2] for k in keys if not k.endswith(b":fresh"))
    _, stored = cache.get(copy_key)
    assert stored.count('"Feature"') == 2  # still the first answer of this window

    cache.delete(f"{copy_key}:fresh")  # the window ends
    api_client.get(SEARCH)
    _, stored = cache.get(copy_key)
    assert stored.count('"Feature"') == 3
