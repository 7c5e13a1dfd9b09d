"""The lean path's views and URLconf (config.lean; wired in config/asgi.py).

Anonymous GET/HEAD of viewport, search, tiles and the OGC items (a page and one feature),
answered by the same functions as the DRF views (viewport_answer, search_answer,
tile_answer, items_answer, item_answer: one parameter validation, one SQL, one
fallback); an OGC HTML reading is handed to its DRF view. The answers are wrapped by config.lean.drf_read in what DRF adds (throttles,
problem+json errors, Allow). Each view carries its DRF class as `view_class`, so
config.http_cache reads the same cache policy and config.versioning the same
deprecation marks from it as on Django's path.
"""

from django.urls import path, register_converter, set_urlconf

from config.db_router import run_public_read
from config.lean import drf_read
from locations import tile_cache
from locations.api import ogc_documents, ogc_views
from locations.api.tile_views import TileView, tile_answer
from locations.api.views import (
    LocationSearchView,
    LocationViewportView,
    search_answer,
    viewport_answer,
)

# The paths the lean path takes (regexes over the whole path); the URLconf below must
# answer each of them. Django's own routes are config/api_router.py's.
ROUTES = (
    r"/api/v1/locations/viewport",
    r"/api/v1/locations/search",
    r"/api/v1/tiles/[0-9]{1,10}/[0-9]{1,10}/[0-9]{1,10}\.mvt",
    r"/api/v1/ogc/collections/[^/]+/items",
    r"/api/v1/ogc/collections/[^/]+/items/[^/]+",
)
URLCONF = "locations.api.lean"


class _Digits:
    # Like Django's `int` converter, but the value stays text: the tile serializer
    # checks it exactly as TileView's path values (with its own messages).
    regex = "[0-9]+"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(_Digits, "lean_digits")


# Each answer reads from a healthy replica as its DRF view does (config.db_router's
# replica_read on the view class; run_public_read here).


def _public(request, view_class: type, answer):
    """`answer()` as view_class's DRF view would give it (drf_read), read from a healthy
    replica (run_public_read)."""
    return drf_read(request, view_class, lambda: run_public_read(request, answer))


def viewport(request):
    return _public(request, LocationViewportView, lambda: viewport_answer(request))


def search(request):
    return _public(request, LocationSearchView, lambda: search_answer(request))


def tile(request, z, x, y):
    # Only requests without credentials come this way (config.lean.wants). The map
    # generation rides on the throttle's round trip, as in TileView.initial.
    tile_cache.read_generation_with_throttles(request)
    return _public(request, TileView, lambda: tile_answer(request, z, x, y, anonymous=True))


def _ogc_html(request, view_class, **kwargs):
    # An HTML reading (`f=html`, or a browser's Accept) is the DRF view's, under the
    # project's URLconf (its templates name routes); JSON and every error are the answer
    # function's, as for the other lean routes.
    set_urlconf(None)
    return view_class.as_view()(request, **kwargs)


def ogc_items(request, collection_id):
    if ogc_views.asks_for_html(request, ogc_documents.GEOJSON):
        return _ogc_html(request, ogc_views.ItemsView, collection_id=collection_id)
    return _public(
        request, ogc_views.ItemsView, lambda: ogc_views.items_answer(request, collection_id)
    )


def ogc_item(request, collection_id, feature_id):
    if ogc_views.asks_for_html(request, ogc_documents.GEOJSON):
        return _ogc_html(
            request, ogc_views.ItemView, collection_id=collection_id, feature_id=feature_id
        )
    return _public(
        request,
        ogc_views.ItemView,
        lambda: ogc_views.item_answer(request, collection_id, feature_id),
    )


viewport.view_class = LocationViewportView  # type: ignore[attr-defined]
search.view_class = LocationSearchView  # type: ignore[attr-defined]
tile.view_class = TileView  # type: ignore[attr-defined]
ogc_items.view_class = ogc_views.ItemsView  # type: ignore[attr-defined]
ogc_item.view_class = ogc_views.ItemView  # type: ignore[attr-defined]

urlpatterns = [
    path("api/v1/locations/viewport", viewport),
    path("api/v1/locations/search", search),
    path("api/v1/tiles/<lean_digits:z>/<lean_digits:x>/<lean_digits:y>.mvt", tile),
    path("api/v1/ogc/collections/<str:collection_id>/items", ogc_items),
    path("api/v1/ogc/collections/<str:collection_id>/items/<str:feature_id>", ogc_item),
]

# The error pages of config/urls.py: an error raised outside a view (a middleware, after
# URL resolution) is answered as on Django's path, problem+json under /api/.
handler400 = "config.exceptions.handler400"
handler403 = "config.exceptions.handler403"
handler404 = "config.exceptions.handler404"
handler500 = "config.exceptions.handler500"
