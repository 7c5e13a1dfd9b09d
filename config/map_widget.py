"""The admin's map, offline: GeoDjango's OpenStreetMap widget with OpenLayers from this
app's static files (config/static/vendor/) instead of a CDN, and the basemap from
settings.MAP_TILES_URL (an `{z}/{x}/{y}` tile URL template).

Without MAP_TILES_URL (empty) there is no basemap: the point still shows, on the map's
plain background.
"""

from django.conf import settings
from django.contrib.gis.forms import OSMWidget
from django.template.loader import render_to_string
from django.utils.safestring import mark_safe

OPENLAYERS_DIR = "vendor/ol-7.2.2"


class OfflineMapWidget(OSMWidget):
    template_name = "gis/offline_map_widget.html"

    class Media:
        # Not extended: the parent's Media names OpenLayers on a CDN.
        extend = False
        css = {"all": (f"{OPENLAYERS_DIR}/ol.css", "gis/css/ol3.css")}
        js = (f"{OPENLAYERS_DIR}/ol.js", "gis/js/OLMapWidget.js")

    def get_context(self, name, value, attrs):
        context = super().get_context(name, value, attrs)
        context["tiles_url"] = settings.MAP_TILES_URL
        return context

    def _render(self, template_name, context, renderer=None):
        # Widgets render with the form renderer, which does not search the project's
        # templates/ directory, where this template lives.
        return mark_safe(render_to_string(template_name, context))  # noqa: S308 (a template)
