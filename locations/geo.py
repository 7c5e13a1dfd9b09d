"""Bounding boxes in WGS 84, shared by the viewport endpoint and the live map feed.

Parsed by hand (never handed to GDAL): a bbox is four finite numbers
`minLon,minLat,maxLon,maxLat`. `minLon > maxLon` means the box crosses the antimeridian
(e.g. `170,-20,-170,20` covers Fiji), which is how map clients describe such a view.
"""

import math
from collections.abc import Sequence
from dataclasses import dataclass

from locations.constants import COORDINATE_STORED_DECIMALS

LON_MIN, LON_MAX = -180.0, 180.0
LAT_MIN, LAT_MAX = -90.0, 90.0


def quantize_degrees(value: float) -> float:
    """A finite coordinate rounded to COORDINATE_STORED_DECIMALS, the one policy for
    every way a coordinate comes in (API, import, admin). -0.0 becomes 0.0."""
    return round(value, COORDINATE_STORED_DECIMALS) + 0.0


class BBoxError(ValueError):
    """The bbox is malformed; the message says why and is safe to show to the client."""


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

    def as_list(self) -> list[float]:
        return [self.min_lon, self.min_lat, self.max_lon, self.max_lat]


WORLD = BBox(LON_MIN, LAT_MIN, LON_MAX, LAT_MAX)


def _number(value, name: str) -> float:
    # JSON true/false are ints to Python; a bbox of booleans is a client bug, not 0/1.
    if isinstance(value, bool):
        raise BBoxError(f"{name} must be a number.")
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            raise BBoxError(f"{name} must be a number.") from None
    elif isinstance(value, int | float):
        value = float(value)
    else:
        raise BBoxError(f"{name} must be a number.")
    if not math.isfinite(value):
        raise BBoxError(f"{name} must be a finite number.")
    return value


def parse_bbox(raw: str | Sequence) -> BBox:
    """`"minLon,minLat,maxLon,maxLat"` or a 4-item list -> BBox. Raises BBoxError."""
    if isinstance(raw, str):
        parts: Sequence = raw.split(",")
    elif isinstance(raw, list | tuple):
        parts = raw
    else:
        raise BBoxError("bbox must be minLon,minLat,maxLon,maxLat.")
    if len(parts) != 4:
        raise BBoxError("bbox must have exactly 4 numbers: minLon,minLat,maxLon,maxLat.")
    min_lon, min_lat, max_lon, max_lat = (
        _number(value, name)
        for value, name in zip(parts, ("minLon", "minLat", "maxLon", "maxLat"), strict=True)
    )
    for name, lon in (("minLon", min_lon), ("maxLon", max_lon)):
        if not LON_MIN <= lon <= LON_MAX:
            raise BBoxError(f"{name} must be between -180 and 180.")
    for name, lat in (("minLat", min_lat), ("maxLat", max_lat)):
        if not LAT_MIN <= lat <= LAT_MAX:
            raise BBoxError(f"{name} must be between -90 and 90.")
    if min_lat >= max_lat:
        raise BBoxError("minLat must be less than maxLat.")
    if min_lon == max_lon:
        raise BBoxError("minLon and maxLon must differ (minLon > maxLon crosses the antimeridian).")
    return BBox(min_lon, min_lat, max_lon, max_lat)


def point_in_bbox(lon: float, lat: float, bbox: BBox) -> bool:
    """Edges included; a box with minLon > maxLon wraps across the antimeridian."""
    if not bbox.min_lat <= lat <= bbox.max_lat:
        return False
    if bbox.crosses_antimeridian:
        return lon >= bbox.min_lon or lon <= bbox.max_lon
    return bbox.min_lon <= lon <= bbox.max_lon
