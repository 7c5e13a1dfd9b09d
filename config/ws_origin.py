"""The websocket Origin check: a handshake is let through only when its Origin header names
one of settings.WS_ALLOWED_ORIGINS exactly (scheme, host and port).

Channels' AllowedHostsOriginValidator compares hosts only, so a page on any port or scheme
of an allowed host (http://localhost:1234, https://127.0.0.1) could open the feed.

A handshake without an Origin header is a native client (mobile websocket libraries send
none; browsers always do, and a page cannot remove it): let through while
settings.WS_ALLOW_NO_ORIGIN is on (the default). `Origin: null` (a sandboxed page, a
file) and two Origin headers are always refused.
"""

from urllib.parse import urlsplit

from channels.security.websocket import WebsocketDenier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEFAULT_PORTS = {"http": 80, "https": 443}


def normalize_origin(value: str) -> str | None:
    """`scheme://host:port` with the default port spelled out, or None if `value` is not
    an http(s) origin (a path, credentials, a query or a bad port make it none)."""
    try:
        parts = urlsplit(value.strip())
        port = parts.port
    except ValueError:
        return None
    scheme = parts.scheme.lower()
    host = parts.hostname
    if scheme not in DEFAULT_PORTS or not host:
        return None
    if parts.username is not None or parts.path not in ("", "/") or parts.query or parts.fragment:
        return None
    if ":" in host:  # IPv6 literal
        host = f"[{host}]"
    return f"{scheme}://{host}:{port or DEFAULT_PORTS[scheme]}"


class OriginValidator:
    """ASGI middleware for the websocket branch: refuse (HTTP 403) a foreign Origin."""

    def __init__(
        self,
        application,
        allowed_origins: list[str] | None = None,
        *,
        allow_no_origin: bool | None = None,
    ):
        self.application = application
        self.allow_no_origin = (
            settings.WS_ALLOW_NO_ORIGIN if allow_no_origin is None else allow_no_origin
        )
        configured = settings.WS_ALLOWED_ORIGINS if allowed_origins is None else allowed_origins
        self.allowed_origins = frozenset()
        for origin in configured:
            normalized = normalize_origin(origin)
            if normalized is None:
                raise ImproperlyConfigured(
                    f"WS_ALLOWED_ORIGINS: {origin!r} is not an origin like https://example.com"
                )
            self.allowed_origins |= {normalized}

    async def __call__(self, scope, receive, send):
        if self.allows(scope):
            return await self.application(scope, receive, send)
        return await WebsocketDenier()(scope, receive, send)

    def allows(self, scope) -> bool:
        origins = [value for name, value in scope.get("headers", []) if name == b"origin"]
        if not origins:
            return self.allow_no_origin
        if len(origins) != 1:
            return False
        return normalize_origin(origins[0].decode("latin-1")) in self.allowed_origins
