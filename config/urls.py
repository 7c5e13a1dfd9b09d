from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView

from config import health
from locations.views import MapPageView

urlpatterns = [
    # The map page (docs/tiles.md).
    path("", MapPageView.as_view(), name="map"),
    path("map/", MapPageView.as_view(), name="map-page"),
    path("health", health.health, name="health"),
    path("ready", health.ready, name="ready"),
    path("api/v1/", include(("config.api_router", "api"), namespace="v1")),
    path("api/docs", SpectacularSwaggerView.as_view(url_name="v1:schema"), name="api-docs"),
    path("admin/", admin.site.urls),
]

handler400 = "config.exceptions.handler400"
handler403 = "config.exceptions.handler403"
handler404 = "config.exceptions.handler404"
handler500 = "config.exceptions.handler500"
