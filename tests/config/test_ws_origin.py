"""The websocket Origin check (config/ws_origin.py): scheme, host and port compared exactly."""

import json

import pytest
from channels.testing import WebsocketCommunicator
from django.core.exceptions import ImproperlyConfigured

from config.asgi import application
from config.ws_origin import OriginValidator, normalize_origin
from tests.support import run_python

ALLOWED = ["https://map.example.com", "http://localhost:8000"]


async def echo_accept(scope, receive, send):
    await receive()
    await send({"type": "websocket.accept"})


async def handshake(validator, *origins: bytes) -> bool:
    headers = [(b"origin", origin) for origin in origins]
    communicator = WebsocketCommunicator(validator, "/ws/map/", headers=headers)
    connected, _ = await communicator.connect()
    await communicator.disconnect()
    return connected


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("origin", "accepted"),
    [
        (b"https://map.example.com", True),
        (b"https://map.example.com:443", True),  # the default port spelled out
        (b"HTTPS://Map.Example.COM", True),
        (b"http://localhost:8000", True),
        (b"http://map.example.com", False),  # another scheme
        (b"https://map.example.com:8443", False),  # another port
        (b"http://localhost:1234", False),
        (b"http://localhost", False),
        (b"https://localhost:8000", False),
        (b"https://evil.map.example.com", False),
        (b"https://map.example.com.evil.test", False),
        (b"null", False),
        (b"https://map.example.com/path", False),
        (b"https://user@map.example.com", False),
        (b"https://map.example.com:99999", False),
    ],
)
async def test_it_compares_scheme_host_and_port_exactly(origin, accepted):
    assert await handshake(OriginValidator(echo_accept, ALLOWED), origin) is accepted


@pytest.mark.anyio
async def test_it_accepts_a_handshake_without_an_origin_as_native_apps_send_it():
    assert await handshake(OriginValidator(echo_accept, ALLOWED)) is True


@pytest.mark.anyio
async def test_with_ws_allow_no_origin_off_it_refuses_a_handshake_without_an_origin(settings):
    settings.WS_ALLOW_NO_ORIGIN = False
    validator = OriginValidator(echo_accept, ALLOWED)

    assert await handshake(validator) is False
    assert await handshake(validator, b"https://map.example.com") is True


@pytest.mark.anyio
async def test_it_refuses_two_origins_and_the_null_origin_whatever_the_setting():
    validator = OriginValidator(echo_accept, ALLOWED, allow_no_origin=True)
    assert await handshake(validator, b"https://map.example.com", b"https://evil.test") is False
    assert await handshake(validator, b"null") is False


@pytest.mark.anyio
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize(
    ("headers", "connected"),
    [
        ([(b"origin", b"http://testserver")], True),  # an allowed origin
        ([(b"origin", b"https://evil.example.net")], False),  # a foreign one
        ([], True),  # none: a native app
    ],
)
async def test_the_live_feed_opens_for_an_allowed_origin_or_none_and_not_a_foreign_one(
    headers, connected
):
    communicator = WebsocketCommunicator(application, "/ws/map/?bbox=1,1,2,2", headers=headers)
    opened, _ = await communicator.connect()
    await communicator.disconnect()
    assert opened is connected


@pytest.mark.anyio
async def test_the_live_feed_refuses_another_port_of_the_test_host():
    communicator = WebsocketCommunicator(
        application, "/ws/map/?bbox=1,1,2,2", headers=[(b"origin", b"http://testserver:8080")]
    )
    connected, _ = await communicator.connect()
    assert not connected


def test_it_refuses_to_start_with_something_that_is_not_an_origin():
    with pytest.raises(ImproperlyConfigured, match="WS_ALLOWED_ORIGINS"):
        OriginValidator(echo_accept, ["map.example.com"])


def test_ipv6_origins_keep_their_brackets():
    assert normalize_origin("http://[::1]:8000") == "http://[::1]:8000"


def test_by_default_the_site_csrf_trusted_and_cors_origins_may_open_the_feed():
    printed = run_python(
        "import json, django; django.setup(); from django.conf import settings; "
        "print(json.dumps([settings.WS_ALLOWED_ORIGINS, settings.WS_ALLOW_NO_ORIGIN]))",
        DJANGO_SETTINGS_MODULE="config.settings.local",
        SITE_URL="https://map.example.com/",
        CSRF_TRUSTED_ORIGINS="https://admin.example.com,http://localhost:3000",
        CORS_ALLOWED_ORIGINS="https://app.example.org,https://map.example.com",
    )
    assert json.loads(printed) == [
        [
            "https://map.example.com",
            "https://admin.example.com",
            "http://localhost:3000",
            "https://app.example.org",
        ],
        True,
    ]
