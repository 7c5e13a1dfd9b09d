"""Query parameters of the OGC API - Features endpoints, parsed as the standard words them
(OGC 17-069r4, Part 1: Core) and refused with a 400 problem naming the parameter.

- Every endpoint refuses parameters it does not know (/req/core/query-param-unknown).
- `limit`: 1..LIMIT_MAX, default LIMIT_DEFAULT; a larger value is served as LIMIT_MAX
  (the standard's "you might get up to 10000"), 0, a negative or a non-integer is a 400.
- `bbox`: 4 numbers, or 6 with heights (ignored); minLon > maxLon crosses the
  antimeridian, as in the rest of the API (locations.geo).
- `datetime`: an instant or an interval `start/end`, either end open (`..` or empty), on
  the approval time. A date means the whole UTC day.
- `category`: the queryable, one or more slugs (`category=park,cafe` or repeated).
- `cursor`: the opaque keyset position of the `next`/`prev` links.
"""

import base64
import binascii
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from uuid import UUID

from config.errors import ApplicationError
from locations import categories, constants
from locations.geo import BBoxError, parse_bbox
from locations.selectors import ItemsFilter

LIMIT_DEFAULT = 10
LIMIT_MAX = 10_000
BBOX_MAX_LENGTH = 200
DATETIME_MAX_LENGTH = 100
CURSOR_MAX_LENGTH = 64

FORMAT_JSON = "json"
FORMAT_HTML = "html"
FORMATS = (FORMAT_JSON, FORMAT_HTML)

COMMON_PARAMS = frozenset({"f"})
ITEMS_PARAMS = COMMON_PARAMS | {"bbox", "limit", "datetime", "category", "cursor"}

_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
# RFC 3339 date-time: an offset or Z is required (a time without a zone means nothing).
_DATE_TIME = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt](\d{2}:\d{2}:\d{2})(?:\.(\d+))?([Zz]|[+-]\d{2}:\d{2})$"
)
# GDAL's OAPIF driver (3.6) turns `-where "approved_at >= '2026-01-10'"` into
# `datetime=2026-01-10T/..`, and a time to the hour or minute into `...T12Z`/`...T12:30Z`:
# read unambiguously, as that day and that UTC time, so GIS users' filters work.
_GDAL_DATE_TIME = re.compile(r"^(\d{4}-\d{2}-\d{2})T(?:(\d{2})(?::(\d{2}))?Z)?$")
_OPEN = ("", "..")


def invalid(name: str, message: str) -> ApplicationError:
    """A 400 validation problem naming the parameter."""
    return ApplicationError(errors={name: [message]})


def check_known(query, allowed: frozenset[str]) -> None:
    """Unknown parameters are a 400: a client must not believe a filter it misspelt
    was applied."""
    unknown = sorted(set(query) - allowed)
    if unknown:
        raise ApplicationError(
            errors={
                name: [f"Unknown parameter. Allowed here: {', '.join(sorted(allowed))}."]
                for name in unknown
            }
        )


def single(query, name: str) -> str | None:
    values = query.getlist(name)
    if not values:
        return None
    if len(values) > 1:
        raise invalid(name, "Give this parameter once.")
    if values[0] == "":
        raise invalid(name, "This parameter may not be empty.")
    return values[0]


def parse_format(query) -> str | None:
    value = single(query, "f")
    if value is not None and value not in FORMATS:
        raise invalid("f", f"Must be one of: {', '.join(FORMATS)}.")
    return value


def parse_limit(raw: str | None) -> int:
    if raw is None:
        return LIMIT_DEFAULT
    if not raw.isascii() or not raw.isdigit():
        raise invalid("limit", f"Must be an integer from 1 to {LIMIT_MAX}.")
    digits = raw.lstrip("0")
    if not digits:
        raise invalid("limit", f"Must be an integer from 1 to {LIMIT_MAX}.")
    # Any longer number is over the maximum; int() of thousands of digits is refused.
    return LIMIT_MAX if len(digits) > len(str(LIMIT_MAX)) else min(int(digits), LIMIT_MAX)


def parse_ogc_bbox(raw: str | None):
    if raw is None:
        return None
    if len(raw) > BBOX_MAX_LENGTH:
        raise invalid("bbox", f"Must be at most {BBOX_MAX_LENGTH} characters.")
    parts = raw.split(",")
    if len(parts) == 6:
        # minLon,minLat,minHeight,maxLon,maxLat,maxHeight: heights are checked, not used.
        for height, name in ((parts[2], "minHeight"), (parts[5], "maxHeight")):
            try:
                float(height)
            except ValueError:
                raise invalid("bbox", f"{name} must be a number.") from None
        parts = [parts[0], parts[1], parts[3], parts[4]]
    elif len(parts) != 4:
        raise invalid("bbox", "Must be 4 numbers (minLon,minLat,maxLon,maxLat) or 6 with heights.")
    try:
        return parse_bbox(parts, allow_degenerate=True)
    except BBoxError as exc:
        raise invalid("bbox", str(exc)) from None


def parse_categories(query) -> tuple[str, ...]:
    values = [part.strip() for value in query.getlist("category") for part in value.split(",")]
    if not values:
        return ()
    if any(not value for value in values):
        raise invalid("category", "Empty category. See /collections/places/queryables.")
    # Any category, active or not: old places keep a deactivated one.
    known = categories.known_slugs()
    unknown = sorted({value for value in values if value not in known})
    if unknown:
        raise invalid(
            "category",
            f"Unknown category: {', '.join(unknown)}. See /collections/places/queryables.",
        )
    if len(set(values)) > constants.CATEGORY_FILTER_MAX:
        raise invalid("category", f"At most {constants.CATEGORY_FILTER_MAX} categories.")
    return tuple(dict.fromkeys(values))


@dataclass(frozen=True)
class TimeBounds:
    start: datetime | None = None
    end: datetime | None = None
    end_exclusive: bool = False


def _day_start(value: date) -> datetime:
    return datetime.combine(value, time.min, tzinfo=UTC)


def _moment(text: str) -> tuple[datetime, bool]:
    """(the instant, whether `text` was a date) or a ValueError."""
    if _DATE.match(text):
        return _day_start(date.fromisoformat(text)), True
    gdal = _GDAL_DATE_TIME.match(text)
    if gdal is not None:
        day, hour, minute = gdal.groups()
        if hour is None:
            return _day_start(date.fromisoformat(day)), True
        text = f"{day}T{hour}:{minute or '00'}:00Z"
    match = _DATE_TIME.match(text)
    if match is None:
        raise ValueError(text)
    day, clock, fraction, offset = match.groups()
    fraction = f".{(fraction or '')[:6].ljust(6, '0')}"
    offset = "+00:00" if offset in ("Z", "z") else offset
    return datetime.fromisoformat(f"{day}T{clock}{fraction}{offset}"), False


def parse_datetime(raw: str | None) -> TimeBounds:
    if raw is None:
        return TimeBounds()
    message = (
        "Must be an RFC 3339 date-time or date, or an interval start/end with either end "
        "open (..), e.g. 2026-01-01T00:00:00Z/.."
    )
    if len(raw) > DATETIME_MAX_LENGTH:
        raise invalid("datetime", message)
    try:
        if "/" not in raw:
            instant, is_date = _moment(raw)
            if is_date:
                return TimeBounds(instant, instant + timedelta(days=1), end_exclusive=True)
            return TimeBounds(instant, instant)
        first, _, last = raw.partition("/")
        if "/" in last:
            raise ValueError(raw)
        start = None if first in _OPEN else _moment(first)[0]
        end, end_exclusive = None, False
        if last not in _OPEN:
            end, is_date = _moment(last)
            if is_date:
                end, end_exclusive = end + timedelta(days=1), True
    except (ValueError, OverflowError):
        raise invalid("datetime", message) from None
    if start is not None and end is not None and (start >= end if end_exclusive else start > end):
        raise invalid("datetime", "The interval's start is after its end.")
    return TimeBounds(start, end, end_exclusive)


# A cursor is "a" (after) or "b" (before) and a place id, base64url-encoded: opaque to
# clients, so its form may change.
def encode_cursor(direction: str, location_id: UUID) -> str:
    return base64.urlsafe_b64encode(direction.encode() + location_id.bytes).decode().rstrip("=")


def parse_cursor(raw: str | None) -> tuple[UUID | None, UUID | None]:
    """(after, before) of a `cursor`; at most one is set."""
    if raw is None:
        return None, None
    try:
        if len(raw) > CURSOR_MAX_LENGTH:
            raise ValueError(raw)
        data = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
        direction, location_id = data[:1], UUID(bytes=data[1:])
    except (ValueError, binascii.Error):
        raise invalid("cursor", "Not a cursor of this API: follow the next/prev links.") from None
    if direction == b"a":
        return location_id, None
    if direction == b"b":
        return None, location_id
    raise invalid("cursor", "Not a cursor of this API: follow the next/prev links.")


@dataclass(frozen=True)
class ItemsQuery:
    filters: ItemsFilter
    limit: int
    after: UUID | None
    before: UUID | None


def parse_items_query(query) -> ItemsQuery:
    """The parameters of GET /collections/places/items (`f` is read by the view)."""
    check_known(query, ITEMS_PARAMS)
    times = parse_datetime(single(query, "datetime"))
    after, before = parse_cursor(single(query, "cursor"))
    return ItemsQuery(
        filters=ItemsFilter(
            bbox=parse_ogc_bbox(single(query, "bbox")),
            categories=parse_categories(query),
            start=times.start,
            end=times.end,
            end_exclusive=times.end_exclusive,
        ),
        limit=parse_limit(single(query, "limit")),
        after=after,
        before=before,
    )
