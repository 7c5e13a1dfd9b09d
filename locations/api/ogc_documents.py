"""The fixed documents of the OGC API - Features at /api/v1/ogc/: the landing page,
conformance declaration, the `places` collection, its queryables, and the OpenAPI 3.0
definition of these endpoints (the `service-desc`). Plain dicts: the endpoints are few
and fixed, and the standard names every member. Every href is absolute, made by the view
from the request (`Links`)."""

from collections.abc import Callable
from datetime import datetime

from config.timestamps import utc_timestamp
from locations import categories
from locations.api.ogc_params import LIMIT_DEFAULT, LIMIT_MAX
from locations.selectors import Extent

COLLECTION_ID = "places"
CRS84 = "http://www.opengis.net/def/crs/OGC/1.3/CRS84"
CONTENT_CRS = f"<{CRS84}>"
GREGORIAN = "http://www.opengis.net/def/uom/ISO-8601/0/Gregorian"

JSON = "application/json"
GEOJSON = "application/geo+json"
HTML = "text/html"
OPENAPI = "application/vnd.oai.openapi+json;version=3.0"
SCHEMA_JSON = "application/schema+json"

CONFORMANCE = [
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/core",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/geojson",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/html",
    "http://www.opengis.net/spec/ogcapi-features-1/1.0/conf/oas30",
]

TITLE = "Placemap"
DESCRIPTION = "Crowd-sourced places, approved by moderators, as OGC API - Features."

# url(name, kwargs, query) -> absolute URL of a named route.
UrlFor = Callable[..., str]


def link(href: str, rel: str, type_: str, title: str) -> dict:
    return {"href": href, "rel": rel, "type": type_, "title": title}


def self_links(url: str, *, json_type: str = JSON) -> list[dict]:
    """`self` in JSON and its HTML `alternate`, for a URL without `f`."""
    joiner = "&" if "?" in url else "?"
    return [
        link(f"{url}{joiner}f=json", "self", json_type, "This document"),
        link(f"{url}{joiner}f=html", "alternate", HTML, "This document as HTML"),
    ]


def landing_page(url_for: UrlFor) -> dict:
    api = url_for("ogc-api")
    return {
        "title": TITLE,
        "description": DESCRIPTION,
        "links": [
            *self_links(url_for("ogc-landing")),
            link(f"{api}?f=json", "service-desc", OPENAPI, "The API definition (OpenAPI 3.0)"),
            link(f"{api}?f=html", "service-doc", HTML, "The API documentation"),
            link(
                f"{url_for('ogc-conformance')}?f=json",
                "conformance",
                JSON,
                "The conformance classes implemented",
            ),
            link(f"{url_for('ogc-collections')}?f=json", "data", JSON, "The collections"),
        ],
    }


def conformance(url_for: UrlFor) -> dict:
    return {"links": self_links(url_for("ogc-conformance")), "conformsTo": CONFORMANCE}


def _stamp(value: datetime | None) -> str | None:
    return utc_timestamp(value)


def collection(url_for: UrlFor, extent: Extent, *, with_self: bool = True) -> dict:
    url = url_for("ogc-collection", collection_id=COLLECTION_ID)
    items = url_for("ogc-items", collection_id=COLLECTION_ID)
    links = self_links(url) if with_self else [link(f"{url}?f=json", "self", JSON, "Places")]
    links += [
        link(f"{items}?f=json", "items", GEOJSON, "The places"),
        link(f"{items}?f=html", "items", HTML, "The places as HTML"),
        link(
            f"{url_for('ogc-queryables', collection_id=COLLECTION_ID)}?f=json",
            "http://www.opengis.net/def/rel/ogc/1.0/queryables",
            SCHEMA_JSON,
            "The properties the items may be filtered on",
        ),
    ]
    document: dict = {
        "id": COLLECTION_ID,
        "title": "Places",
        "description": "Approved places: name, description, category, address, times.",
        "links": links,
        "itemType": "feature",
        "crs": [CRS84],
    }
    spatial_temporal: dict = {}
    if extent.bbox is not None:
        spatial_temporal["spatial"] = {"bbox": [list(extent.bbox)], "crs": CRS84}
    if extent.first_approved is not None:
        spatial_temporal["temporal"] = {
            "interval": [[_stamp(extent.first_approved), _stamp(extent.last_approved)]],
            "trs": GREGORIAN,
        }
    if spatial_temporal:
        document["extent"] = spatial_temporal
    return document


def collections(url_for: UrlFor, extent: Extent) -> dict:
    return {
        "links": self_links(url_for("ogc-collections")),
        "collections": [collection(url_for, extent, with_self=False)],
    }


def queryables(url_for: UrlFor, language: str) -> dict:
    """The queryables; the categories' titles in `language` (the view's Content-Language)."""
    labels = categories.category_labels(language)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": url_for("ogc-queryables", collection_id=COLLECTION_ID),
        "type": "object",
        "title": "Places",
        "properties": {
            "category": {
                "title": "Category",
                "description": "One or more slugs: category=park or category=park,cafe.",
                "type": "string",
                # Every category, active or not (old places keep a deactivated one),
                # each with its label as the title.
                "enum": list(labels),
                "oneOf": [{"const": slug, "title": label} for slug, label in labels.items()],
            }
        },
        "additionalProperties": False,
    }


# --- OpenAPI 3.0 (service-desc) ----------------------------------------------------------


def _f_parameter() -> dict:
    return {
        "name": "f",
        "in": "query",
        "required": False,
        "description": "The representation; without it, the Accept header decides.",
        "schema": {"type": "string", "enum": ["json", "html"]},
    }


def _response(description: str, media_type: str, schema: dict | None = None) -> dict:
    return {
        "description": description,
        "content": {
            media_type: {"schema": schema or {"type": "object"}},
            HTML: {"schema": {"type": "string"}},
        },
    }


_PROBLEM = {"description": "A problem (RFC 9457)", "content": {"application/problem+json": {}}}


def _get(summary: str, operation_id: str, response: dict, parameters=(), errors=(400,)) -> dict:
    responses = {"200": response} | {str(status): _PROBLEM for status in errors}
    return {
        "get": {
            "summary": summary,
            "operationId": operation_id,
            "tags": ["OGC API - Features"],
            "parameters": [*parameters, _f_parameter()],
            "responses": responses,
        }
    }


def openapi(url_for: UrlFor) -> dict:
    """The OpenAPI 3.0 definition of the OGC endpoints (Placemap's REST API has its own,
    at /api/v1/schema)."""
    base = url_for("ogc-landing").rstrip("/")
    collection_path = f"/collections/{COLLECTION_ID}"
    items_parameters = [
        {
            "name": "bbox",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": "minLon,minLat,maxLon,maxLat in CRS84 (6 numbers with heights "
            "also accepted); minLon > maxLon crosses the antimeridian.",
            "schema": {
                "type": "array",
                "minItems": 4,
                "maxItems": 6,
                "items": {"type": "number"},
            },
        },
        {
            "name": "limit",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": f"Items per page; larger values are served as {LIMIT_MAX}.",
            "schema": {
                "type": "integer",
                "minimum": 1,
                "maximum": LIMIT_MAX,
                "default": LIMIT_DEFAULT,
            },
        },
        {
            "name": "datetime",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": "The approval time: an instant or an interval (start/end, "
            "'..' for an open end), RFC 3339.",
            "schema": {"type": "string"},
        },
        {
            "name": "category",
            "in": "query",
            "required": False,
            "style": "form",
            "explode": False,
            "description": "One or more category slugs (a queryable).",
            "schema": {
                "type": "array",
                "items": {"type": "string", "enum": sorted(categories.known_slugs())},
            },
        },
        {
            "name": "cursor",
            "in": "query",
            "required": False,
            "description": "A page position; use the next and prev links.",
            "schema": {"type": "string"},
        },
    ]
    feature_id = {
        "name": "featureId",
        "in": "path",
        "required": True,
        "description": "The place's id.",
        "schema": {"type": "string", "format": "uuid"},
    }
    return {
        "openapi": "3.0.3",
        "info": {
            "title": f"{TITLE}: OGC API - Features",
            "version": "1.0.0",
            "description": DESCRIPTION,
        },
        "servers": [{"url": base}],
        "paths": {
            "/": _get("Landing page", "getLandingPage", _response("The landing page", JSON)),
            "/conformance": _get(
                "Conformance classes",
                "getConformanceDeclaration",
                _response("The conformance classes", JSON),
            ),
            "/collections": _get(
                "The collections", "getCollections", _response("The collections", JSON)
            ),
            collection_path: _get(
                "The places collection",
                "describeCollection",
                _response("The collection", JSON),
            ),
            f"{collection_path}/queryables": _get(
                "The queryables of places",
                "getQueryables",
                _response("A JSON Schema", SCHEMA_JSON),
            ),
            f"{collection_path}/items": _get(
                "Places",
                "getFeatures",
                _response(
                    "A FeatureCollection (numberMatched only without bbox and datetime)",
                    GEOJSON,
                ),
                items_parameters,
            ),
            f"{collection_path}/items/{{featureId}}": _get(
                "One place",
                "getFeature",
                _response("A Feature", GEOJSON),
                [feature_id],
                errors=(400, 404),
            ),
        },
    }
