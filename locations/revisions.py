"""A place's content as data: what a version holds, and the before/after of two versions.

Used by the services (to freeze a revision's `changes`) and the selectors (a pending
revision's live diff), so the API, the console and the history read alike.
"""

from typing import Any

from django.contrib.gis.geos import Point

from locations.constants import COORDINATE_DECIMALS
from locations.models import CONTENT_FIELDS

# Two points closer than this (degrees) are the same point: a float read back from
# PostGIS need not be bit-equal to the one written.
POINT_TOLERANCE = 1e-9


def point_geojson(point: Point | None) -> dict | None:
    """A point as GeoJSON, rounded like the public Feature's geometry."""
    if point is None:
        return None
    return {
        "type": "Point",
        "coordinates": [round(point.x, COORDINATE_DECIMALS), round(point.y, COORDINATE_DECIMALS)],
    }


def content_of(obj: Any) -> dict[str, Any]:
    """The content fields of a place or a revision (the point as a GEOS Point)."""
    return {field: getattr(obj, field) for field in CONTENT_FIELDS}


def same_value(field: str, a: Any, b: Any) -> bool:
    if field == "point":
        if a is None or b is None:
            return a is b
        return a.equals_exact(b, tolerance=POINT_TOLERANCE)
    return a == b


def same_content(a: dict[str, Any], b: dict[str, Any]) -> bool:
    return all(same_value(field, a[field], b[field]) for field in CONTENT_FIELDS)


def _json(field: str, value: Any) -> Any:
    return point_geojson(value) if field == "point" else value


def content_changes(before: dict[str, Any] | None, after: dict[str, Any]) -> dict[str, dict]:
    """{field: {"before": ..., "after": ...}} of every field that differs (all of them,
    `before` null, for a first version); the point as GeoJSON on both sides."""
    changes = {}
    for field in CONTENT_FIELDS:
        old = None if before is None else before[field]
        if before is not None and same_value(field, old, after[field]):
            continue
        changes[field] = {"before": _json(field, old), "after": _json(field, after[field])}
    return changes
