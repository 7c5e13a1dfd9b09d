"""The lean ASGI path (config/lean.py, locations/api/lean.py) answers exactly as Django.

Each request goes through config.asgi.application (channels' HttpCommunicator), once on
the lean path and once through Django (LEAN_READS off): same status, body and headers
(the same X-Request-ID is sent, so even that matches). These tests commit
(transaction=True): the lean path runs in a worker thread with its own connection.
"""

import gzip
import json
import logging

import pytest
from asgiref.sync import async_to_sync
from channels.testing import HttpCommunicator

from config import lean
from config.asgi import application
from tests.config.observability.conftest import CapturedLogs
from tests.locations.test_fallback import locations_table_locked

pytestmark = pytest.mark.django_db(transaction=True)

LON, LAT = 13.4132, 52.5219
ORIGIN = "https://map.example"
VIEWPORT = "/api/v1/locations/viewport?bbox=13.40,52.51,13.42,52.53"
SEARCH = f"/api/v1/locations/search?lat={LAT}&lon={LON}&radius=2000"
TEXT = f"/api/v1/locations/search?q=bakery&lat={LAT}&lon={LON}&radius=5000"
# z 17 tile holding (LON, LAT) and an empty one.
TILE = "/api/v1/tiles/17/70419/42984.mvt"
EMPTY_TILE = "/api/v1/tiles/17/1/1.mvt"


def call(path: str, headers: dict[str, str] | None = None) -> dict:
    sent = [(b"host", b"testserver")]
    sent += [(name.lower().encode(), value.encode()) for name, value in (headers or {}).items()]
    communicator = HttpCommunicator(application, "GET", path, headers=sent)
    response = async_to_sync(communicator.get_response)(timeout=10)
    response["headers"] = {
        name.decode().lower(): value.decode() for name, value in response["headers"]
    }
    return response


def both(path: str, settings, headers: dict[str, str] | None = None) -> tuple[dict, dict]:
    """(lean answer, Django answer) to the same request."""
    headers = {"X-Request-ID": "lean-test-1", **(headers or {})}
    settings.LEAN_READS = True
    lean_answer = call(path, headers)
    settings.LEAN_READS = False
    django_answer = call(path, headers)
    settings.LEAN_READS = True
    return lean_answer, django_answer


@pytest.fixture
def places(user, place_of):
    place_of(user, lon=LON, lat=LAT, category="cafe", name="Corner bakery")
    place_of(user, lon=LON + 0.001, lat=LAT + 0.001, category="park", name="Little park")
    # Enough for answers of more than 1 kB, which are compressed.
    for n in range(6):
        place_of(user, lon=LON - 0.0005 * n, lat=LAT - 0.0003, category="shop", name=f"Shop {n}")


@pytest.fixture
def on_lean_path(monkeypatch):
    """Records the paths the lean handler served."""
    served: list[str] = []
    original = lean.LeanHandler.serve

    def serve(self, scope):
        served.append(scope["path"])
        return original(self, scope)

    monkeypatch.setattr(lean.LeanHandler, "serve", serve)
    return served


@pytest.mark.parametrize("path", [VIEWPORT, SEARCH, TEXT, TILE, EMPTY_TILE])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Accept-Encoding": "gzip, br", "Origin": ORIGIN}],
    ids=["plain", "compressed-cors"],
)
def test_lean_and_django_answer_the_same(places, settings, on_lean_path, path, headers):
    settings.CORS_ALLOWED_ORIGINS = [ORIGIN]

    lean_answer, django_answer = both(path, settings, headers)

    assert on_lean_path == [path.split("?")[0]]
    assert lean_answer["status"] == django_answer["status"]
    assert lean_answer["body"] == django_answer["body"]
    assert lean_answer["headers"] == django_answer["headers"]
    assert lean_answer["status"] in (200, 204)
    assert lean_answer["headers"]["x-request-id"] == "lean-test-1"
    assert lean_answer["headers"]["cache-control"].startswith("public, max-age=")
    if lean_answer["status"] == 200:
        assert lean_answer["headers"]["etag"]
    if headers:
        assert lean_answer["headers"]["access-control-allow-origin"] == ORIGIN
    if headers and path in (VIEWPORT, SEARCH):  # > 1 kB: compressed
        assert lean_answer["headers"]["content-encoding"] == "br"


def test_the_answers_hold_the_places(places, settings):
    answer = call(VIEWPORT)
    assert {f["properties"]["name"] for f in json.loads(answer["body"])["features"]} == {
        "Corner bakery",
        "Little park",
        *(f"Shop {n}" for n in range(6)),
    }
    answer = call(SEARCH, {"Accept-Encoding": "gzip"})
    assert answer["headers"]["content-encoding"] == "gzip"
    assert len(json.loads(gzip.decompress(answer["body"]))["features"]) == 8
    body = json.loads(call(TEXT)["body"])
    assert [f["properties"]["name"] for f in body["features"]] == ["Corner bakery"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/locations/viewport?bbox=1,2,3",
        "/api/v1/locations/viewport",
        "/api/v1/locations/search?radius=-5",
        "/api/v1/locations/search?lat=91&lon=0",
        "/api/v1/tiles/3/8/1.mvt",
        "/api/v1/tiles/23/0/0.mvt",
        "/api/v1/tiles/4/1/1.mvt?category=nope",
    ],
)
def test_validation_errors_are_the_same_problem(settings, on_lean_path, path):
    lean_answer, django_answer = both(path, settings)

    assert on_lean_path == [path.split("?")[0]]
    assert lean_answer["status"] == django_answer["status"] == 400
    assert lean_answer["body"] == django_answer["body"]
    assert lean_answer["headers"] == django_answer["headers"]
    problem = json.loads(lean_answer["body"])
    assert problem["request_id"] == "lean-test-1"
    assert lean_answer["headers"]["content-type"] == "application/problem+json"


def test_the_read_throttle_is_shared_and_answers_429(settings):
    settings.REST_FRAMEWORK = {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "reads": "3/minute",
        },
    }
    headers = {"X-Request-ID": "throttled-1"}
    settings.LEAN_READS = True
    assert call(VIEWPORT, headers)["status"] == 200
    settings.LEAN_READS = False
    assert call(VIEWPORT, headers)["status"] == 200  # the same counter
    settings.LEAN_READS = True
    assert call(TILE, headers)["status"] == 204  # the same scope: tiles count too

    lean_answer = call(VIEWPORT, headers)
    settings.LEAN_READS = False
    django_answer = call(VIEWPORT, headers)

    assert lean_answer["status"] == django_answer["status"] == 429
    assert lean_answer["body"] == django_answer["body"]
    assert json.loads(lean_answer["body"])["type"].endswith("/throttled")
    assert 1 <= int(lean_answer["headers"]["retry-after"]) <= 60
    assert lean_answer["headers"] == django_answer["headers"]


def test_a_database_outage_serves_the_copy_django_stored_and_503_without_one(places, settings):
    settings.LEAN_READS = False
    fresh = call(SEARCH)
    assert fresh["status"] == 200

    settings.PLACES_STATEMENT_TIMEOUT_MS = 200
    settings.LEAN_READS = True
    with locations_table_locked():
        stale = call(SEARCH)
        lean_missing, django_missing = both(VIEWPORT + "&limit=7", settings)

    assert stale["status"] == 200
    assert stale["body"] == fresh["body"]
    assert stale["headers"]["x-cache-stale"] == "true"
    assert stale["headers"]["cache-control"] == "private, no-store"
    assert "etag" not in stale["headers"]

    assert lean_missing["status"] == django_missing["status"] == 503
    assert lean_missing["body"] == django_missing["body"]
    assert lean_missing["headers"] == django_missing["headers"]
    assert int(lean_missing["headers"]["retry-after"]) >= 1


def test_if_none_match_is_304_and_a_tile_revalidates_without_postgresql(places, settings):
    first = call(VIEWPORT)
    again = call(VIEWPORT, {"If-None-Match": first["headers"]["etag"]})
    assert again["status"] == 304
    assert again["body"] == b""
    assert again["headers"]["etag"] == first["headers"]["etag"]

    tile = call(TILE, {"Accept-Encoding": "gzip"})
    assert tile["status"] == 200
    # With the table locked, any query would time out (503): the memo alone answers.
    settings.PLACES_STATEMENT_TIMEOUT_MS = 200
    with locations_table_locked():
        revalidated = call(
            TILE, {"Accept-Encoding": "gzip", "If-None-Match": tile["headers"]["etag"]}
        )
    assert revalidated["status"] == 304
    assert revalidated["headers"]["etag"] == tile["headers"]["etag"]
    assert revalidated["headers"]["cache-control"] == f"public, max-age={settings.TILE_MAX_AGE}"


@pytest.fixture
def logs():
    previous_level = logging.getLogger().level
    captured = CapturedLogs()
    captured.attach()
    yield captured
    captured.detach(previous_level)


@pytest.mark.parametrize(("incoming", "echoed"), [("abc-123.X_y", True), ("bad id\n", False)])
def test_the_request_id_is_sanitised_echoed_and_logged_once(logs, on_lean_path, incoming, echoed):
    answer = call(VIEWPORT, {"X-Request-ID": incoming})

    assert on_lean_path
    request_id = answer["headers"]["x-request-id"]
    assert (request_id == incoming) is echoed
    (line,) = logs.events("request_finished")
    assert line["request_id"] == request_id
    assert line["method"] == "GET"
    assert line["path"] == "/api/v1/locations/viewport"
    assert line["query"] == "bbox=13.40,52.51,13.42,52.53"
    assert line["status"] == 200
    assert isinstance(line["duration_ms"], float)


@pytest.mark.parametrize(
    "headers",
    [
        {"Authorization": "Token nope"},
        {"Cookie": "sessionid=abc"},
        {"Cookie": "a=1; sessionid=abc"},
        {"Accept": "text/html"},
    ],
)
def test_credentials_and_other_media_types_go_to_django(on_lean_path, headers):
    answer = call(VIEWPORT, headers)

    assert on_lean_path == []
    assert answer["status"] in (200, 401, 406)


def test_other_methods_formats_and_the_setting_off_go_to_django(settings, on_lean_path):
    call(VIEWPORT + "&format=json")
    call("/api/v1/categories")
    communicator = HttpCommunicator(application, "POST", "/api/v1/locations/viewport")
    async_to_sync(communicator.get_response)(timeout=10)
    settings.LEAN_READS = False
    call(VIEWPORT)
    assert on_lean_path == []

    settings.LEAN_READS = True
    call(VIEWPORT)
    assert on_lean_path == ["/api/v1/locations/viewport"]


def test_a_deprecated_version_is_announced_the_same_way(settings, on_lean_path):
    settings.API_DEPRECATIONS = {"v1": {"deprecation": "2026-01-01", "sunset": "2099-01-01"}}

    lean_answer, django_answer = both(VIEWPORT, settings)

    assert on_lean_path == ["/api/v1/locations/viewport"]
    assert lean_answer["headers"]["deprecation"] == django_answer["headers"]["deprecation"]
    assert lean_answer["headers"]["sunset"] == django_answer["headers"]["sunset"]
    assert lean_answer["headers"] == django_answer["headers"]


def test_head_is_served_like_get(places, settings, on_lean_path):
    answers = []
    for lean_reads in (True, False):
        settings.LEAN_READS = lean_reads
        communicator = HttpCommunicator(
            application,
            "HEAD",
            VIEWPORT,
            headers=[(b"host", b"testserver"), (b"x-request-id", b"head-1")],
        )
        answers.append(async_to_sync(communicator.get_response)(timeout=10))

    assert on_lean_path == ["/api/v1/locations/viewport"]
    lean_answer, django_answer = answers
    assert lean_answer["status"] == django_answer["status"] == 200
    assert sorted(lean_answer["headers"]) == sorted(django_answer["headers"])
    assert lean_answer["body"] == django_answer["body"]


@pytest.mark.parametrize("path", [VIEWPORT, SEARCH, TILE])
def test_lean_reads_choose_their_database_as_the_drf_views_do(
    path, places, monkeypatch, on_lean_path
):
    # The routing itself (replica, sticky cookie, retry on the primary) is
    # tests/config/test_replicas.py's; here: the lean views go through it too.
    from config import db_router
    from locations.api import lean as lean_views

    routed: list[str] = []

    def spy(request, read):
        routed.append(request.path)
        return db_router.run_public_read(request, read)

    monkeypatch.setattr(lean_views, "run_public_read", spy)
    response = call(path)

    assert response["status"] == 200
    assert on_lean_path == routed == [path.split("?")[0]]


@pytest.fixture
def redis_round_trips(monkeypatch):
    """Every round trip to Redis (one command, or one pipeline), as sent."""
    import redis.connection

    sent: list[bytes] = []
    original = redis.connection.AbstractConnection.send_packed_command

    def send_packed_command(self, command, check_health=True):
        sent.append(command if isinstance(command, bytes) else b"".join(command))
        return original(self, command, check_health)

    monkeypatch.setattr(
        redis.connection.AbstractConnection, "send_packed_command", send_packed_command
    )
    return sent


@pytest.mark.parametrize("lean_reads", [True, False])
def test_a_repeated_tile_costs_one_redis_round_trip(
    places, settings, redis_round_trips, lean_reads
):
    # The throttle's INCR + EXPIRE and the map generation in one pipeline; the tile is
    # kept in the process (locations.tile_cache), so nothing else goes out.
    settings.LEAN_READS = lean_reads
    first = call(TILE)
    redis_round_trips.clear()
    again = call(TILE)
    assert again["status"] == 200 and again["body"] == first["body"]
    assert again["headers"]["etag"] == first["headers"]["etag"]
    assert len(redis_round_trips) == 1, redis_round_trips
    assert b"INCR" in redis_round_trips[0] and b"tiles:generation" in redis_round_trips[0]
