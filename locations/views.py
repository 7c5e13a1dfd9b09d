"""The map page (GET / and /map/): a template and static JS on top of the public API
(docs/tiles.md). No data is read here; the page asks the API like any other client."""

from django.conf import settings
from django.urls import reverse
from django.views.generic import TemplateView

from locations import constants


class MapPageView(TemplateView):
    template_name = "locations/map.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["map_config"] = {
            "tilejsonUrl": reverse("v1:tilejson"),
            "searchUrl": reverse("v1:locations-search"),
            # + "<id>": GET /api/v1/locations/{id}
            "detailUrl": reverse("v1:locations") + "/",
            "feedPath": "/ws/map/",
            "styleUrl": settings.MAP_STYLE_URL,
            "clusterMaxZoom": settings.TILE_CLUSTER_MAX_ZOOM,
            "categories": constants.CATEGORIES,
        }
        return context
