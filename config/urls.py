from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularRedocView, SpectacularSwaggerView

from config import health
from config.exceptions import api_not_found
from locations.views import MapPageView

urlpatterns = [
    # The map page (docs/tiles.md).
    path("", MapPageView.as_view(), name="map"),
    path("map/", MapPageView.as_view(), name="map-page"),
    path("health", health.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("api/v1/", include(("config.api_router", "api"), namespace="v1")),
    # Swagger UI and ReDoc from drf-spectacular-sidecar's static files (SPECTACULAR_SETTINGS).
    path("api/docs", SpectacularSwaggerView.as_view(url_name="v1:schema"), name="api-docs"),
    path("api/redoc", SpectacularRedocView.as_view(url_name="v1:schema"), name="api-redoc"),
    # Anything else under /api/ (another version, a typo) is a problem+json 404, also
    # with DEBUG on, when Django would answer its HTML debug page.
    re_path(r"^api(?:/.*)?$", api_not_found),
    path("admin/", admin.site.urls),
]

handler400 = "config.exceptions.handler400"
handler403 = "config.exceptions.handler403"
handler404 = "config.exceptions.handler404"
handler500 = "config.exceptions.handler500"
