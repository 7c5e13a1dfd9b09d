"""The lean path's views and URLconf (config.lean; wired in config/asgi.py).

Anonymous GET/HEAD of viewport, search and tiles, answered by the same functions as the
DRF views (viewport_answer, search_answer, tile_answer: one parameter validation, one
SQL, one fallback), wrapped by config.lean.drf_read in what DRF adds (throttles,
problem+json errors, Allow). Each view carries its DRF class as `view_class`, so
config.http_cache reads the same cache policy and config.versioning the same
deprecation marks from it as on Django's path.
"""

from django.urls import path, register_converter

from config.db_router import run_public_read
from config.lean import drf_read
from locations import tile_cache
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


def viewport(request):
    return drf_read(
        request,
        LocationViewportView,
        lambda: run_public_read(request, lambda: viewport_answer(request)),
    )


def search(request):
    return drf_read(
        request,
        LocationSearchView,
        lambda: run_public_read(request, lambda: search_answer(request)),
    )


def tile(request, z, x, y):
    # Only requests without credentials come this way (config.lean.wants). The map
    # generation rides on the throttle's round trip, as in TileView.initial.
    tile_cache.read_generation_with_throttles(request)
    return drf_read(
        request,
        TileView,
        lambda: run_public_read(request, lambda: tile_answer(request, z, x, y, anonymous=True)),
    )


viewport.view_class = LocationViewportView  # type: ignore[attr-defined]
search.view_class = LocationSearchView  # type: ignore[attr-defined]
tile.view_class = TileView  # type: ignore[attr-defined]

urlpatterns = [
    path("api/v1/locations/viewport", viewport),
    path("api/v1/locations/search", search),
    path("api/v1/tiles/<lean_digits:z>/<lean_digits:x>/<lean_digits:y>.mvt", tile),
]

# The error pages of config/urls.py: an error raised outside a view (a middleware, after
# URL resolution) is answered as on Django's path, problem+json under /api/.
handler400 = "config.exceptions.handler400"
handler403 = "config.exceptions.handler403"
handler404 = "config.exceptions.handler404"
handler500 = "config.exceptions.handler500"
