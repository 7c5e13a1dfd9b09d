"""OGC API - Features at /api/v1/ogc/ (Part 1: Core, GeoJSON, HTML, OpenAPI 3.0): thin
views over locations.selectors.ogc and the fixed documents of ogc_documents.

Each resource answers JSON or HTML: `?f=json|html` decides, else the Accept header
(text/html for a browser; application/json, application/geo+json or anything else for
a client). Errors are problem+json from the one handler, whatever was asked. These
routes follow the OGC standard's paging (`next`/`prev` links) rather than the REST API's,
and have their own OpenAPI document (`/api/v1/ogc/api`): they are left out of
/api/v1/schema.

The items and the item are answered by plain functions of the request (items_answer,
item_answer) that the DRF views and the lean path's routes (locations.api.lean) both
call; an HTML reading is always rendered by the DRF view (the lean route hands it over).
"""

import json
from uuid import UUID

from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.http import urlencode
from drf_spectacular.utils import extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.renderers import JSONRenderer
from rest_framework.views import APIView

from config import languages
from config.db_router import replica_read
from config.errors import ApplicationError, NotFoundError
from config.http_cache import public_read
from locations import selectors
from locations.api import ogc_documents as docs
from locations.api import ogc_params as params
from locations.api.throttles import ReadRateThrottle
from locations.errors import LocationNotFound

HTML_CONTENT_TYPE = "text/html; charset=utf-8"


class _OgcNegotiation(BaseContentNegotiation):
    """The views answer JSON or HTML themselves (`f`, Accept); DRF only renders errors,
    as JSON (`?format=` is an unknown parameter here, not DRF's renderer override)."""

    def select_parser(self, request, parsers):
        return parsers[0] if parsers else None

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class CollectionNotFound(NotFoundError):
    default_detail = f"No such collection; the one collection is '{docs.COLLECTION_ID}'."


def wants_html(request: HttpRequest, json_type: str) -> bool:
    """Whether `request` asks for the HTML reading: `f` decides, else the Accept header
    (a bad `f` is a 400)."""
    fmt = params.parse_format(request.GET)
    if fmt is not None:
        return fmt == params.FORMAT_HTML
    return request.get_preferred_type([json_type, docs.JSON, docs.HTML]) == docs.HTML


def asks_for_html(request: HttpRequest, json_type: str) -> bool:
    """wants_html without its 400, for the lean path's choice: a bad `f` is answered by
    the answer function, after the checks that come before it on Django's path."""
    try:
        return wants_html(request, json_type)
    except ApplicationError:
        return False


def ogc_url(request: HttpRequest, name: str, **kwargs) -> str:
    # The project's URLconf even on the lean path (whose own URLconf has no names).
    path = reverse(f"v1:{name}", kwargs=kwargs, urlconf=settings.ROOT_URLCONF)
    return request.build_absolute_uri(path)


def finish(response: HttpResponse) -> HttpResponse:
    patch_vary_headers(response, ["Accept"])
    return response


def check_collection(collection_id: str) -> None:
    if collection_id != docs.COLLECTION_ID:
        raise CollectionNotFound()


def respond(
    request: HttpRequest,
    template: str,
    json_type: str,
    document: dict,
    html_context: dict | None = None,
) -> HttpResponse:
    """`document` as JSON, or its HTML reading from `template`, as `request` asks."""
    if wants_html(request, json_type):
        context = {"document": document, **(html_context or {})}
        body = render_to_string(template, context, request=request)
        response = HttpResponse(body, content_type=HTML_CONTENT_TYPE)
    else:
        response = HttpResponse(json.dumps(document), content_type=json_type)
    return finish(response)


@extend_schema(exclude=True)
@replica_read
@public_read  # approved places only: the same answer for everyone (ETag, 304, max-age)
class OgcView(APIView):
    renderer_classes = [JSONRenderer]
    content_negotiation_class = _OgcNegotiation
    throttle_classes = [ReadRateThrottle]
    json_type = docs.JSON
    template = ""

    def url_for(self, name: str, **kwargs) -> str:
        return ogc_url(self.request._request, name, **kwargs)

    def respond(self, request, document: dict, *, html_context: dict | None = None):
        return respond(request._request, self.template, self.json_type, document, html_context)

    def check_params(self, request, allowed: frozenset[str] = params.COMMON_PARAMS) -> None:
        params.check_known(request.query_params, allowed)

    def check_collection(self, collection_id: str) -> None:
        check_collection(collection_id)


class LandingPageView(OgcView):
    """GET /ogc/: the landing page."""

    template = "locations/ogc/landing.html"

    def get(self, request):
        self.check_params(request)
        return self.respond(request, docs.landing_page(self.url_for))


class ConformanceView(OgcView):
    """GET /ogc/conformance: the conformance classes implemented."""

    template = "locations/ogc/conformance.html"

    def get(self, request):
        self.check_params(request)
        return self.respond(request, docs.conformance(self.url_for))


class ApiDefinitionView(OgcView):
    """GET /ogc/api: the OpenAPI 3.0 definition of these endpoints (service-desc), or
    its HTML reading (service-doc)."""

    template = "locations/ogc/api.html"
    json_type = docs.OPENAPI

    def get(self, request):
        self.check_params(request)
        return self.respond(request, docs.openapi(self.url_for))


class CollectionsView(OgcView):
    """GET /ogc/collections: the one collection, `places`."""

    template = "locations/ogc/collections.html"

    def get(self, request):
        self.check_params(request)
        extent = selectors.ogc_places_extent()
        return self.respond(request, docs.collections(self.url_for, extent))


class CollectionView(OgcView):
    """GET /ogc/collections/places: its extent (CRS84; approval times) and links."""

    template = "locations/ogc/collection.html"

    def get(self, request, collection_id: str):
        self.check_params(request)
        self.check_collection(collection_id)
        extent = selectors.ogc_places_extent()
        return self.respond(request, docs.collection(self.url_for, extent))


class QueryablesView(OgcView):
    """GET /ogc/collections/places/queryables: what the items may be filtered on."""

    template = "locations/ogc/queryables.html"
    json_type = docs.SCHEMA_JSON

    def get(self, request, collection_id: str):
        self.check_params(request)
        self.check_collection(collection_id)
        language = languages.negotiate(request)
        response = self.respond(request, docs.queryables(self.url_for, language))
        return languages.localize(response, language)


def _with_query(url: str, query: dict[str, list[str]]) -> str:
    return f"{url}?{urlencode(query, doseq=True)}" if query else url


ITEMS_TEMPLATE = "locations/ogc/items.html"
ITEM_TEMPLATE = "locations/ogc/item.html"


class ItemsView(OgcView):
    """GET /ogc/collections/places/items: approved places, filtered and paged."""

    template = ITEMS_TEMPLATE
    json_type = docs.GEOJSON

    def get(self, request, collection_id: str):
        return items_answer(request._request, collection_id)


def items_answer(request: HttpRequest, collection_id: str) -> HttpResponse:
    """GET /ogc/collections/places/items for this request: the answer of ItemsView and
    of the lean path (locations.api.lean)."""
    check_collection(collection_id)
    query = params.parse_items_query(request.GET)
    html = wants_html(request, docs.GEOJSON)
    page = selectors.ogc_items_page(
        filters=query.filters, limit=query.limit, after=query.after, before=query.before
    )
    links = _items_links(request, query, page)
    members = {
        "links": links,
        "timeStamp": timezone.now().strftime("%Y-%m-%dT%H:%M:%SZ"),
        **({"numberMatched": page.number_matched} if page.number_matched is not None else {}),
        "numberReturned": page.number_returned,
    }
    if html:
        document = {"type": "FeatureCollection", "features": json.loads(page.features)}
        context = {"features": document["features"], "members": members}
        return respond(request, ITEMS_TEMPLATE, docs.GEOJSON, document | members, context)
    # The features stay the text PostgreSQL wrote; only the few members are encoded.
    body = '{"type":"FeatureCollection","features":' + page.features + "," + json.dumps(members)[1:]
    response = HttpResponse(body, content_type=docs.GEOJSON)
    response["Content-Crs"] = docs.CONTENT_CRS
    return finish(response)


def _items_links(
    request: HttpRequest, query: params.ItemsQuery, page: selectors.ItemsPage
) -> list[dict]:
    url = ogc_url(request, "ogc-items", collection_id=docs.COLLECTION_ID)
    # The request's own parameters, so every link keeps its filters and limit.
    asked = {name: request.GET.getlist(name) for name in request.GET}

    def at(fmt: str, cursor: str | None = None) -> str:
        query_string = {name: values for name, values in asked.items() if name != "f"}
        if cursor is not None:
            query_string["cursor"] = [cursor]
        query_string["f"] = [fmt]
        return _with_query(url, query_string)

    links = [
        docs.link(at("json"), "self", docs.GEOJSON, "This page"),
        docs.link(at("html"), "alternate", docs.HTML, "This page as HTML"),
        docs.link(
            ogc_url(request, "ogc-collection", collection_id=docs.COLLECTION_ID) + "?f=json",
            "collection",
            docs.JSON,
            "The collection",
        ),
    ]
    backwards = query.before is not None
    next_exists = (page.more and not backwards) or (backwards and page.last_id is not None)
    prev_exists = (page.more and backwards) or (
        query.after is not None and page.first_id is not None
    )
    if next_exists and page.last_id is not None:
        cursor = params.encode_cursor("a", page.last_id)
        links.append(docs.link(at("json", cursor), "next", docs.GEOJSON, "Next page"))
    if prev_exists and page.first_id is not None:
        cursor = params.encode_cursor("b", page.first_id)
        links.append(docs.link(at("json", cursor), "prev", docs.GEOJSON, "Previous page"))
    return links


class ItemView(OgcView):
    """GET /ogc/collections/places/items/{id}: one approved place (404 otherwise)."""

    template = ITEM_TEMPLATE
    json_type = docs.GEOJSON

    def get(self, request, collection_id: str, feature_id: str):
        return item_answer(request._request, collection_id, feature_id)


def item_answer(request: HttpRequest, collection_id: str, feature_id: str) -> HttpResponse:
    """GET /ogc/collections/places/items/{id} for this request: the answer of ItemView
    and of the lean path (locations.api.lean)."""
    params.check_known(request.GET, params.COMMON_PARAMS)
    check_collection(collection_id)
    try:
        location_id = UUID(feature_id)
    except ValueError:
        raise LocationNotFound() from None
    text = selectors.ogc_item_json(location_id=location_id)
    if text is None:
        raise LocationNotFound()
    feature = json.loads(text)
    url = ogc_url(request, "ogc-item", collection_id=docs.COLLECTION_ID, feature_id=feature_id)
    feature["links"] = [
        docs.link(f"{url}?f=json", "self", docs.GEOJSON, "This place"),
        docs.link(f"{url}?f=html", "alternate", docs.HTML, "This place as HTML"),
        docs.link(
            ogc_url(request, "ogc-collection", collection_id=docs.COLLECTION_ID) + "?f=json",
            "collection",
            docs.JSON,
            "The collection",
        ),
    ]
    response = respond(request, ITEM_TEMPLATE, docs.GEOJSON, feature, {"feature": feature})
    if response["Content-Type"] == docs.GEOJSON:
        response["Content-Crs"] = docs.CONTENT_CRS
    return response
