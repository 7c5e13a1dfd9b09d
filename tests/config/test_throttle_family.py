"""config.throttling.FixedWindowRateThrottle, the base of every API rate limit: counted
in the throttles' Redis (THROTTLE_REDIS_URL, config.redis), per user or per client IP, failing open."""

import pytest
from django.contrib.auth.models import AnonymousUser
from rest_framework.request import Request
from rest_framework.settings import api_settings
from rest_framework.test import APIRequestFactory

from config import redis as placemap_redis
from config.throttling import FixedWindowRateThrottle

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def family_rate(settings):
    rates = {**api_settings.DEFAULT_THROTTLE_RATES, "family": "2/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}


class PerClient(FixedWindowRateThrottle):
    scope = "family"


class PerIp(FixedWindowRateThrottle):
    scope = "family"
    ident = "ip"


class AnonymousOnly(FixedWindowRateThrottle):
    scope = "family"
    anonymous_only = True


def request_from(ip: str, user=None) -> Request:
    request = Request(APIRequestFactory().get("/", REMOTE_ADDR=ip))
    request.user = user or AnonymousUser()
    return request


def allowed(throttle_class, request, times: int) -> list[bool]:
    return [throttle_class().allow_request(request, None) for _ in range(times)]


def test_it_refuses_the_request_over_the_rate_and_says_when_to_retry():
    request = request_from("192.0.2.1")
    assert allowed(PerClient, request, 3) == [True, True, False]
    throttle = PerClient()
    assert throttle.allow_request(request, None) is False
    assert 0 < throttle.wait() <= 60


def test_it_counts_each_client_ip_apart():
    assert allowed(PerClient, request_from("192.0.2.1"), 3) == [True, True, False]
    assert allowed(PerClient, request_from("192.0.2.2"), 1) == [True]


def test_it_counts_a_signed_in_user_across_addresses(user):
    assert allowed(PerClient, request_from("192.0.2.1", user), 2) == [True, True]
    assert allowed(PerClient, request_from("192.0.2.2", user), 1) == [False]
    # ... but a per-IP throttle counts the address, whoever is signed in.
    assert allowed(PerIp, request_from("192.0.2.2", user), 1) == [True]


def test_an_anonymous_only_throttle_leaves_signed_in_users_alone(user):
    assert allowed(AnonymousOnly, request_from("192.0.2.1", user), 3) == [True] * 3
    assert allowed(AnonymousOnly, request_from("192.0.2.1"), 3) == [True, True, False]


def test_its_counters_live_under_the_cache_prefix(settings):
    allowed(PerClient, request_from("192.0.2.9"), 1)
    prefix = settings.CACHES["default"]["KEY_PREFIX"]
    keys = list(
        placemap_redis.throttle_client().scan_iter(match=f"{prefix}:*throttle:family:192.0.2.9:*")
    )
    assert len(keys) == 1
    assert placemap_redis.throttle_client().ttl(keys[0]) > 0


def test_it_lets_requests_through_while_redis_is_away(settings, caplog):
    settings.THROTTLE_REDIS_URL = "redis://127.0.0.1:9/0"  # the throttles' Redis only
    assert allowed(PerClient, request_from("192.0.2.1"), 3) == [True, True, True]
    assert "not rate limited" in caplog.text


# --- memo writes riding on the next throttle round trip (config.redis) -------------------


def _request_that_read_with_its_throttles(ip: str) -> Request:
    request = request_from(ip)
    placemap_redis.read_with_throttles(request, "test-deferred:asked")
    assert PerClient().allow_request(request, None)
    return request


def test_a_queued_memo_write_goes_out_with_the_next_throttle_round_trip():
    from django.core.cache import cache

    first = _request_that_read_with_its_throttles("10.0.0.1")
    assert placemap_redis.write_with_throttles(first, "test-deferred:memo", ("a", 1), timeout=30)
    assert cache.get("test-deferred:memo") is None  # not sent by its own request
    _request_that_read_with_its_throttles("10.0.0.2")  # any later request of the process
    assert cache.get("test-deferred:memo") == ("a", 1)
    ttl_ms = placemap_redis.redis_client().pttl(placemap_redis.key("test-deferred:memo"))
    assert 25_000 < ttl_ms <= 30_000
    assert placemap_redis.take_deferred_writes() == []  # sent once


def test_a_request_whose_throttles_did_not_read_writes_itself():
    request = request_from("10.0.0.3")
    assert not placemap_redis.write_with_throttles(request, "test-deferred:x", 1, timeout=30)
    placemap_redis.read_with_throttles(request, "test-deferred:asked")  # asked, not read
    assert not placemap_redis.write_with_throttles(request, "test-deferred:x", 1, timeout=30)
    assert placemap_redis.take_deferred_writes() == []


def test_a_queued_write_keeps_the_expiry_it_was_queued_with(monkeypatch):
    from django.core.cache import cache

    request = _request_that_read_with_its_throttles("10.0.0.4")
    assert placemap_redis.write_with_throttles(request, "test-deferred:soon", 1, timeout=1)
    assert placemap_redis.write_with_throttles(request, "test-deferred:later", 2, timeout=60)
    real_time = placemap_redis.time.time
    monkeypatch.setattr(placemap_redis.time, "time", lambda: real_time() + 2)
    (sent,) = placemap_redis.take_deferred_writes()  # the expired one is dropped
    assert sent[0] == placemap_redis.key("test-deferred:later")
    assert cache.get("test-deferred:soon") is None
