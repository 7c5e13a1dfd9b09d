"""GET /locations/export: approved places as a streamed GeoJSON or CSV download."""

import threading
from collections.abc import AsyncIterator, Iterator

from asgiref.sync import sync_to_async
from django.core.handlers.asgi import ASGIRequest
from django.core.signals import request_finished
from django.dispatch import receiver
from django.http import StreamingHttpResponse
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from config.db_router import read_alias, replica_read
from config.params import QueryParamsSerializer
from locations import exports
from locations.api.schema import ExportFeatureCollectionSerializer
from locations.api.serializers import BBoxField, CategoryListField
from locations.api.throttles import ExportRateThrottle


class ExportParamsSerializer(QueryParamsSerializer):
    format = serializers.ChoiceField(choices=exports.FORMATS, default=exports.FORMAT_GEOJSON)
    bbox = BBoxField(required=False)
    category = CategoryListField(required=False)


class _ExportNegotiation(BaseContentNegotiation):
    """`?format=` names the export format here, not one of DRF's renderers (DRF would
    answer 404 to `format=csv`); the only thing DRF renders on this route is an error."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


# Exports streaming on this thread. Under ASGI, a client that disconnects mid-download
# gets its response task cancelled and response.close() is never called; Django still
# sends request_finished, running sync receivers on the request's own thread, which is
# where the cursor and transaction live. Closing the generator there rolls back and frees
# the server-side cursor at once instead of whenever the garbage collector gets to it.
_open_exports = threading.local()


def _track(chunks: Iterator[str]) -> None:
    if not hasattr(_open_exports, "generators"):
        _open_exports.generators = []
    _open_exports.generators.append(chunks)


@receiver(request_finished, dispatch_uid="placemap-close-open-exports")
def close_open_exports(**kwargs) -> None:
    generators = getattr(_open_exports, "generators", [])
    _open_exports.generators = []
    for chunks in generators:
        chunks.close()  # a no-op for a finished export


async def _as_async(chunks: Iterator[str]) -> AsyncIterator[str]:
    # Under ASGI Django would drain a sync iterator into a list before sending a byte
    # (django.http.StreamingHttpResponse.__aiter__). Pulling each chunk through
    # sync_to_async keeps memory flat; thread_sensitive runs every step on the request's
    # thread, so the cursor and its transaction stay on one connection.
    step = sync_to_async(next, thread_sensitive=True)
    done = object()
    try:
        while (chunk := await step(chunks, done)) is not done:
            yield chunk
    finally:
        await sync_to_async(chunks.close, thread_sensitive=True)()


@replica_read
class LocationExportView(APIView):
    """GET /locations/export: every approved place (optionally within a bbox and some
    categories) as GeoJSON or CSV, streamed with constant memory."""

    renderer_classes = [JSONRenderer]
    content_negotiation_class = _ExportNegotiation
    throttle_classes = [ExportRateThrottle]

    @extend_schema(
        parameters=[ExportParamsSerializer],
        responses={
            (200, "application/geo+json"): OpenApiResponse(
                ExportFeatureCollectionSerializer,
                description="A GeoJSON FeatureCollection (format=geojson).",
            ),
            (200, "text/csv"): OpenApiResponse(
                OpenApiTypes.STR,
                description="CSV with a header row: " + ", ".join(exports.CSV_COLUMNS) + ".",
            ),
        },
    )
    def get(self, request):
        params = ExportParamsSerializer(data=request.query_params)
        params.is_valid(raise_exception=True)
        fmt = params.validated_data["format"]
        filters = exports.ExportFilters(
            bbox=params.validated_data.get("bbox"),
            categories=tuple(params.validated_data.get("category") or ()),
        )
        # The alias now: the stream is read after this view (and its routing) returned.
        chunks = exports.export_text(filters=filters, fmt=fmt, using=read_alias())
        _track(chunks)
        if isinstance(request._request, ASGIRequest):
            chunks = _as_async(chunks)
        response = StreamingHttpResponse(chunks, content_type=exports.CONTENT_TYPES[fmt])
        stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
        response["Content-Disposition"] = f'attachment; filename="placemap-locations-{stamp}.{fmt}"'
        # Reverse proxies (nginx) would otherwise buffer the whole download.
        response["X-Accel-Buffering"] = "no"
        response["Cache-Control"] = "no-store"
        return response
