"""HTTP through Django, websockets through Channels (Redis channel layer)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Before the handler is built: the Django instrumentation adds its middleware first.
from config.telemetry import configure_telemetry

configure_telemetry(component="web")

# Django must be set up before anything imports models.
django_asgi_app = get_asgi_application()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402

from config.body_limit import BodyLimitMiddleware  # noqa: E402
from config.lean import LeanReads  # noqa: E402
from config.websocket_router import websocket_urlpatterns  # noqa: E402
from config.ws_origin import OriginValidator  # noqa: E402
from locations.api import lean as lean_places  # noqa: E402

application = ProtocolTypeRouter(
    {
        # Oversized bodies are refused before Django reads them (config/body_limit.py).
        # Anonymous GETs of viewport, search and tiles take the lean path (config/lean.py,
        # LEAN_READS); everything else goes to Django.
        "http": BodyLimitMiddleware(
            LeanReads(django_asgi_app, routes=lean_places.ROUTES, urlconf=lean_places.URLCONF)
        ),
        "websocket": OriginValidator(AuthMiddlewareStack(URLRouter(websocket_urlpatterns))),
    }
)
