"""Bounding boxes in WGS 84: the one BBox of the viewport and export parameters, the
viewport and export SQL, and the live map feed.

Parsed by hand (never handed to GDAL): a bbox is four finite numbers
`minLon,minLat,maxLon,maxLat`. `minLon > maxLon` means the box crosses the antimeridian
(e.g. `170,-20,-170,20` covers Fiji), which is how map clients describe such a view.
SQL tests a box with `&&` against one ST_MakeEnvelope per half (`BBox.sql_overlaps`),
so each half stays an index condition on location_point_approved_gist.
"""

import math
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from locations.constants import COORDINATE_STORED_DECIMALS

LON_MIN, LON_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -90.0, 90.0


def quantize_degrees(value: float) -> float:
    """A finite coordinate rounded to COORDINATE_STORED_DECIMALS, the one policy for
    every way a coordinate comes in (API, import, admin). -0.0 becomes 0.0."""
    return round(value, COORDINATE_STORED_DECIMALS) + 0.0


class BBoxError(ValueError):
    """The bbox is malformed; the message says why and is safe to show to the client.
    `code` names the rule it broke (count, number, lon, lat, lat_order, empty), so the
    HTTP API can word it its own way (locations.api.serializers.BBoxField)."""

    def __init__(self, message: str, *, code: str):
        super().__init__(message)
        self.code = code


Envelope = tuple[float, float, float, float]


def sql_envelope_overlaps(column: str, names: Sequence[str]) -> str:
    """`column && ST_MakeEnvelope(...)` with the four corners bound as the %(name)s
    parameters `names` (x1, y1, x2, y2). Only fixed names are interpolated."""
    x1, y1, x2, y2 = names
    return (
        f"{column} && ST_MakeEnvelope(%({x1})s::float8, %({y1})s::float8, "
        f"%({x2})s::float8, %({y2})s::float8, 4326)"
    )


@dataclass(frozen=True, slots=True)
class BBox:
    min_lon: float
    min_lat: float
    max_lon: float
    max_lat: float

    @property
    def crosses_antimeridian(self) -> bool:
        return self.min_lon > self.max_lon

    def halves(self) -> tuple["BBox", ...]:
        """One box, or two boxes split at the antimeridian (for `&&`/ST_MakeEnvelope)."""
        if not self.crosses_antimeridian:
            return (self,)
        return (
            BBox(self.min_lon, self.min_lat, LON_MAX, self.max_lat),
            BBox(LON_MIN, self.min_lat, self.max_lon, self.max_lat),
        )

    @property
    def envelopes(self) -> tuple[Envelope, ...]:
        """(x1, y1, x2, y2) of each half: what ST_MakeEnvelope and the grids take."""
        return tuple((b.min_lon, b.min_lat, b.max_lon, b.max_lat) for b in self.halves())

    def contains(self, lon: float, lat: float) -> bool:
        """Edges included; a box with minLon > maxLon wraps across the antimeridian."""
        if not self.min_lat <= lat <= self.max_lat:
            return False
        if self.crosses_antimeridian:
            return lon >= self.min_lon or lon <= self.max_lon
        return self.min_lon <= lon <= self.max_lon

    def sql_overlaps(self, column: str, *, prefix: str = "") -> tuple[str, dict]:
        """`(column && ST_MakeEnvelope(...) [OR ...])`, one envelope per half, and its
        parameters, named `{prefix}x1_0`, `{prefix}y1_0`, ... (half 0, then 1)."""
        params: dict = {}
        overlaps = []
        for index, envelope in enumerate(self.envelopes):
            names = [f"{prefix}{corner}_{index}" for corner in ("x1", "y1", "x2", "y2")]
            params.update(zip(names, envelope, strict=True))
            overlaps.append(sql_envelope_overlaps(column, names))
        return "(" + " OR ".join(overlaps) + ")", params

    def as_list(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]

    def __iter__(self) -> Iterator[float]:
        # Unpacks like the (min_lon, min_lat, max_lon, max_lat) tuple it replaces.
        return iter(self.as_list())

    @classmethod
    def of(cls, value: "BBox | Sequence[float]") -> "BBox":
        """A BBox from a BBox or a validated 4-sequence (callers that pass tuples)."""
        return value if isinstance(value, BBox) else cls(*(float(v) for v in value))


WORLD = BBox(LON_MIN, LAT_MIN, LON_MAX, LAT_MAX)


def _number(value, name: str) -> float:
    # JSON true/false are ints to Python; a bbox of booleans is a client bug, not 0/1.
    if isinstance(value, bool):
        raise BBoxError(f"{name} must be a number.", code="number")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise BBoxError(f"{name} must be a number.", code="number") from None
    elif isinstance(value, int | float):
        value = float(value)
    else:
        raise BBoxError(f"{name} must be a number.", code="number")
    if not math.isfinite(value):
        raise BBoxError(f"{name} must be a finite number.", code="number")
    return value


def parse_bbox(
    raw: str | Sequence, *, max_length: int | None = None, allow_degenerate: bool = False
) -> BBox:
    """`"minLon,minLat,maxLon,maxLat"` or a 4-item list -> BBox. Raises BBoxError.

    `max_length` caps a string before it is split (the HTTP parameters' 200).
    `allow_degenerate` accepts minLat == maxLat and minLon == maxLon (a line or a point,
    as OGC API clients send for the extent of a single place); a map view never is one."""
    if isinstance(raw, str):
        if max_length is not None and len(raw) > max_length:
            raise BBoxError(f"bbox must be at most {max_length} characters.", code="count")
        parts: Sequence = raw.split(",")
    elif isinstance(raw, list | tuple):
        parts = raw
    else:
        raise BBoxError("bbox must be minLon,minLat,maxLon,maxLat.", code="count")
    if len(parts) != 4:
        raise BBoxError(
            "bbox must have exactly 4 numbers: minLon,minLat,maxLon,maxLat.", code="count"
        )
    min_lon, min_lat, max_lon, max_lat = (
        _number(value, name)
        for value, name in zip(parts, ("minLon", "minLat", "maxLon", "maxLat"), strict=True)
    )
    for name, lon in (("minLon", min_lon), ("maxLon", max_lon)):
        if not LON_MIN <= lon <= LON_MAX:
            raise BBoxError(f"{name} must be between -180 and 180.", code="lon")
    for name, lat in (("minLat", min_lat), ("maxLat", max_lat)):
        if not LAT_MIN <= lat <= LAT_MAX:
            raise BBoxError(f"{name} must be between -90 and 90.", code="lat")
    if min_lat > max_lat or (min_lat == max_lat and not allow_degenerate):
        raise BBoxError("minLat must be less than maxLat.", code="lat_order")
    if min_lon == max_lon and not allow_degenerate:
        raise BBoxError(
            "minLon and maxLon must differ (minLon > maxLon crosses the antimeridian).",
            code="empty",
        )
    return BBox(min_lon, min_lat, max_lon, max_lat)


def point_in_bbox(lon: float, lat: float, bbox: BBox) -> bool:
    """Edges included; a box with minLon > maxLon wraps across the antimeridian."""
    return bbox.contains(lon, lat)
