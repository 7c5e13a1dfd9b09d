import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")

# Before the handler is built: the Django instrumentation adds its middleware first.
from config.telemetry import configure_telemetry

configure_telemetry(component="web")

application = get_wsgi_application()
