"""The one web server launcher (config/server.py) and the places that start it."""

import re

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.server import server_options
from tests.support import BASE_DIR


def test_it_refuses_to_trust_forwarded_headers_from_anyone(settings):
    settings.FORWARDED_ALLOW_IPS = ["*"]
    with pytest.raises(ImproperlyConfigured, match="FORWARDED_ALLOW_IPS"):
        server_options()


def test_it_trusts_forwarded_headers_from_the_configured_proxies_only(settings):
    settings.FORWARDED_ALLOW_IPS = ["10.0.0.2", "10.1.0.0/16"]
    settings.LIVE_FEED_MAX_MESSAGE_BYTES = 2048

    options = server_options()

    assert (options["proxy_headers"], options["forwarded_allow_ips"]) == (
        True,
        "10.0.0.2,10.1.0.0/16",
    )
    assert options["ws_max_size"] == 2048
    assert (options["server_header"], options["access_log"]) == (False, False)


@pytest.mark.parametrize("path", ["Dockerfile", ".ci/serve.sh"])
def test_every_deployment_starts_the_server_through_the_launcher(path):
    text = (BASE_DIR / path).read_text()
    assert "config.server" in text
    assert not re.search(r"\buvicorn\b.*config\.asgi", text)
    assert "forwarded-allow-ips" not in text
