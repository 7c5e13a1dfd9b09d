"""Every websocket route, in one place (the live map feed registers here)."""

websocket_urlpatterns: list = []
