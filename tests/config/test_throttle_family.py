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
