"""Websocket routes of the places app (registered in config/websocket_router.py)."""

from django.urls import path

from locations.consumers import MapFeedConsumer

websocket_urlpatterns = [
    path("ws/map/", MapFeedConsumer.as_asgi(), name="ws-map"),
]
