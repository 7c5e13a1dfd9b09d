"""Every websocket route, in one place (config/asgi.py wraps them in origin and auth checks)."""

from locations.routing import websocket_urlpatterns as locations_websocket_urlpatterns

websocket_urlpatterns: list = [
    *locations_websocket_urlpatterns,
]
