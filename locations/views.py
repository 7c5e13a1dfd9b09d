"""The map page (GET / and /map/): a template and static JS on top of the public API
(docs/tiles.md). Only the category labels are read here (locations.categories, the
process's copy); places come from the API, as for any other client."""

from django.conf import settings
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.generic import TemplateView

from config import languages
from locations.categories import category_labels


class MapPageView(TemplateView):
    """The category labels (popups, search results) are in the language of
    Accept-Language (English by default). The rest of the page is English, so it varies on
    Accept-Language without claiming a Content-Language; the script gets the labels'
    language as `categoriesLanguage`."""

    template_name = "locations/map.html"

    def get(self, request, *args, **kwargs):
        self.language = languages.negotiate(request)
        response = super().get(request, *args, **kwargs)
        patch_vary_headers(response, ("Accept-Language",))
        return response

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
            "categories": category_labels(self.language),
            "categoriesLanguage": self.language,
        }
        return context
