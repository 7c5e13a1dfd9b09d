"""Vector tiles of the places (GET /tiles/{z}/{x}/{y}.mvt) and their TileJSON
(GET /tiles.json). The SQL lives in locations.selectors (tiles); see docs/tiles.md.

Caching (config.http_cache, with TILE_MAX_AGE): the ETag is a hash of the tile's bytes,
so anything that changes what the tile shows (an approval, an edit, a removal inside it)
changes it, and nothing else does; If-None-Match answers 304. Tiles of 1 kB and more are
compressed when the client accepts it (config.compression).
"""

from django.conf import settings
from django.http import HttpResponse, HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response
from rest_framework.views import APIView

from config import compression
from config.db_router import replica_read
from config.http_cache import has_credentials, public_read, strong_etag
from config.params import QueryParamsSerializer
from locations import selectors, tile_cache
from locations.api.serializers import CategoryListField
from locations.api.throttles import ReadRateThrottle
from locations.selectors.tiles import TILE_FIELDS, TILE_LAYER, TILE_ZOOM_MAX

MVT_CONTENT_TYPE = "application/vnd.mapbox-vector-tile"


class _FixedNegotiation(BaseContentNegotiation):
    """A tile is a tile whatever the Accept header says (MapLibre sends its own); the
    only thing DRF renders on these routes is JSON (TileJSON, or a problem)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class TileParamsSerializer(QueryParamsSerializer):
    z = serializers.IntegerField(min_value=0, max_value=TILE_ZOOM_MAX)
    x = serializers.IntegerField(min_value=0)
    y = serializers.IntegerField(min_value=0)
    category = CategoryListField(required=False)

    def validate(self, attrs):
        last = 2 ** attrs["z"] - 1
        errors = {
            name: [f"Must be 0..{last} at zoom {attrs['z']}."]
            for name in ("x", "y")
            if attrs[name] > last
        }
        if errors:
            raise serializers.ValidationError(errors)
        attrs.setdefault("category", [])
        return attrs


class TileSetParamsSerializer(QueryParamsSerializer):
    category = CategoryListField(required=False)


@replica_read
@public_read(max_age_setting="TILE_MAX_AGE")
class TileView(APIView):
    """GET /tiles/{z}/{x}/{y}.mvt: the `places` layer, clusters up to
    TILE_CLUSTER_MAX_ZOOM, places above it."""

    throttle_classes = [ReadRateThrottle]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _FixedNegotiation

    def initial(self, request, *args, **kwargs):
        # Before the throttles run: the map generation rides on their round trip.
        tile_cache.read_generation_with_throttles(request)
        super().initial(request, *args, **kwargs)

    @extend_schema(
        parameters=[
            OpenApiParameter("z", OpenApiTypes.INT, OpenApiParameter.PATH, description="0..22"),
            OpenApiParameter("x", OpenApiTypes.INT, OpenApiParameter.PATH, description="0..2^z-1"),
            OpenApiParameter("y", OpenApiTypes.INT, OpenApiParameter.PATH, description="0..2^z-1"),
            OpenApiParameter(
                "category",
                OpenApiTypes.STR,
                description="Category slug(s), comma-separated (GET /api/v1/categories).",
            ),
            OpenApiParameter("If-None-Match", OpenApiTypes.STR, OpenApiParameter.HEADER),
        ],
        responses={
            (200, MVT_CONTENT_TYPE): OpenApiResponse(OpenApiTypes.BINARY, "The tile."),
            204: OpenApiResponse(description="No place in this tile."),
            304: OpenApiResponse(description="The tile is unchanged (If-None-Match)."),
        },
    )
    def get(self, request, z, x, y):
        anonymous = not (request.user.is_authenticated or has_credentials(request))
        return tile_answer(request, z, x, y, anonymous=anonymous)


def tile_answer(request, z, x, y, *, anonymous: bool) -> HttpResponse:
    """GET /tiles/{z}/{x}/{y}.mvt for this request (Django's HttpRequest or DRF's
    Request): the answer of TileView and of the lean path (locations.api.lean)."""
    # The path's numbers go through the same strict checks as a query parameter.
    query = request.GET.copy()
    query.update({"z": z, "x": x, "y": y})
    params = TileParamsSerializer(data=query)
    params.is_valid(raise_exception=True)
    tile = params.validated_data
    memo = {
        "z": tile["z"],
        "x": tile["x"],
        "y": tile["y"],
        "category": tile["category"],
        "coding": compression.accepted_coding(request.headers.get("Accept-Encoding", ""))
        or "identity",
    }
    # Anonymous revalidation of a tile answered recently: 304 from the cache alone.
    if anonymous and (if_none_match := request.headers.get("If-None-Match")):
        remembered = tile_cache.etag_remembered(**memo, request=request)
        tags = _tags(if_none_match)
        if remembered is not None and (remembered[0] in tags or "*" in tags):
            return _not_modified(*remembered)
    generation = tile_cache.generation_read(request)
    content = _tile_content(tile, generation=generation if anonymous else None)
    response: HttpResponse
    if content:
        response = HttpResponse(content, content_type=MVT_CONTENT_TYPE)
    else:
        # An empty tile is as cacheable as a full one (the ETag of no bytes).
        response = HttpResponse(status=204)
        del response["Content-Type"]
    if anonymous and generation is not None:
        # The ETag config.http_cache sends (it keeps this one rather than hash again).
        etag = response["ETag"] = strong_etag(request, response)
        varies = compression.compressible(request, response)
        tile_cache.etag_remember(
            **memo, etag=etag, varies=varies, generation=generation, request=request
        )
    return response


def _tile_content(tile: dict, *, generation: int | None) -> bytes:
    # The first zooms' tiles come from the memo while the map has not changed.
    if generation is None:
        return selectors.locations_tile_mvt(**tile)
    content = tile_cache.tile_remembered(generation=generation, **tile)
    if content is None:
        content = selectors.locations_tile_mvt(**tile)
        tile_cache.tile_remember(generation=generation, **tile, content=content)
    return content


def _tags(if_none_match: str) -> set[str]:
    return {tag.strip().removeprefix("W/") for tag in if_none_match.split(",")}


def _not_modified(etag: str, varies: bool) -> HttpResponse:
    # What config.http_cache sends with an anonymous 304 of a tile.
    response = HttpResponseNotModified()
    response["ETag"] = etag
    response["Cache-Control"] = f"public, max-age={settings.TILE_MAX_AGE}"
    if varies:
        patch_vary_headers(response, ("Accept-Encoding",))
    return response


@replica_read
class TileJSONView(APIView):
    """GET /tiles.json: TileJSON 3.0 of the `places` tiles."""

    throttle_classes = [ReadRateThrottle]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _FixedNegotiation

    @extend_schema(
        parameters=[TileSetParamsSerializer],
        responses={200: OpenApiResponse(OpenApiTypes.OBJECT, "TileJSON 3.0.0")},
    )
    def get(self, request):
        params = TileSetParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        categories = params.validated_data.get("category", [])
        query = f"?category={','.join(categories)}" if categories else ""
        template = request.build_absolute_uri("/api/v1/tiles/") + "{z}/{x}/{y}.mvt" + query
        summary = selectors.tileset_summary()
        bounds = summary.bounds or (-180.0, -85.0511287798066, 180.0, 85.0511287798066)
        if summary.center is not None:
            center = [round(summary.center[0], 5), round(summary.center[1], 5), 8]
        else:
            center = [0.0, 0.0, 0]
        return Response(
            {
                "tilejson": "3.0.0",
                "name": "Placemap places",
                "scheme": "xyz",
                "tiles": [template],
                "minzoom": 0,
                "maxzoom": TILE_ZOOM_MAX,
                "bounds": list(bounds),
                "center": center,
                "vector_layers": [
                    {
                        "id": TILE_LAYER,
                        "fields": dict(TILE_FIELDS),
                        "minzoom": 0,
                        "maxzoom": TILE_ZOOM_MAX,
                        "description": "Approved places; clusters up to zoom "
                        f"{settings.TILE_CLUSTER_MAX_ZOOM}, single places above.",
                    }
                ],
            }
        )
