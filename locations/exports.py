"""Streaming export of places as GeoJSON or CSV with constant memory.

CSV rows come from a server-side cursor in chunks of EXPORT_CHUNK_SIZE. Each GeoJSON
Feature is built as text by PostgreSQL (json_build_object + ST_AsGeoJSON) and streamed
with COPY ... TO STDOUT: the server writes features while Python joins the previous ones
(a cursor's FETCH leaves one side idle while the other works), and Python only joins
bytes, EXPORT_CHUNK_SIZE features a piece. Neither format ever holds more than one chunk in memory, which is
what lets a million-row export run in a few tens of megabytes (see docs/benchmarks.md).

Coordinates keep full precision (the API rounds to 7 decimals for display; a bulk export is
a copy of the data, and re-importing it must not move anything).

Rows are not ordered: a sort would make PostgreSQL read and sort the whole set before the
first byte leaves, and an export has no meaningful order anyway.
"""

from __future__ import annotations

import csv
import functools
import io
import itertools
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, connection, connections, transaction
from opentelemetry import trace

from config.db_router import ReplicaUnavailable, streaming_alias
from locations.constants import LocationStatus
from locations.geo import BBox
from locations.geojson import feature_sql

tracer = trace.get_tracer(__name__)

FORMAT_GEOJSON = "geojson"
FORMAT_CSV = "csv"
FORMATS = (FORMAT_GEOJSON, FORMAT_CSV)
CONTENT_TYPES = {FORMAT_GEOJSON: "application/geo+json", FORMAT_CSV: "text/csv; charset=utf-8"}

CSV_COLUMNS = (
    "id",
    "external_id",
    "name",
    "description",
    "category",
    "address",
    "longitude",
    "latitude",
    "status",
    "created_at",
    "approved_at",
)

GEOJSON_HEADER = '{"type":"FeatureCollection","features":[\n'
GEOJSON_FOOTER = "\n]}\n"

# ISO 8601 in UTC, the same text in both formats whatever the session time zone.
# "+00:00", not the API's "Z" (config.timestamps): exports are files people keep and
# diff, and the form they have always had stays (docs/import-export.md).
_ISO_UTC = '\'YYYY-MM-DD"T"HH24:MI:SS.US"+00:00"\''


def _iso(column: str) -> str:
    return f"to_char({column} AT TIME ZONE 'UTC', {_ISO_UTC})"


# A copy of the data: no `id` (external_id is what a re-import matches on), and every
# digit of the coordinates.
EXPORT_PROPERTIES = (
    "external_id",
    "name",
    "description",
    "category",
    "address",
    "status",
    "created_at",
    "approved_at",
)
EXPORT_DECIMALS = 15


def _csv_safe(column: str) -> str:
    # Names and descriptions are typed by the public; a cell starting with = + - @ is run
    # as a formula by spreadsheet programs (CSV injection). A leading apostrophe defuses
    # it; the importer strips it again (locations.imports.CSV_FORMULA_GUARD).
    return f"CASE WHEN {column} ~ '^[=+@\\t\\r-]' THEN '''' || {column} ELSE {column} END"


_GEOJSON_SELECT = f"""
SELECT {feature_sql(properties=EXPORT_PROPERTIES, decimals=EXPORT_DECIMALS, timestamp=_iso)}::text
FROM locations_location l
"""  # noqa: S608 (constant fragments only; values are query parameters)

_CSV_SELECT = f"""
SELECT l.id::text, l.external_id, {_csv_safe("l.name")}, {_csv_safe("l.description")},
       l.category, {_csv_safe("l.address")}, ST_X(l.point), ST_Y(l.point), l.status,
       {_iso("l.created_at")}, {_iso("l.approved_at")}
FROM locations_location l
"""  # noqa: S608 (constant fragments only)


@dataclass(frozen=True)
class ExportFilters:
    """What to export. `bbox` is a BBox (or its 4-tuple); min_lon > max_lon means the box
    crosses the antimeridian."""

    statuses: tuple[str, ...] = (LocationStatus.APPROVED,)
    bbox: BBox | tuple[float, float, float, float] | None = None
    categories: tuple[str, ...] = field(default_factory=tuple)


def _where(filters: ExportFilters) -> tuple[str, dict]:
    clauses: list[str] = []
    params: dict = {}
    statuses = tuple(dict.fromkeys(filters.statuses))
    unknown = set(statuses) - set(LocationStatus.values)
    if unknown or not statuses:
        raise ValueError(f"Unknown status filter: {sorted(unknown) or 'none given'}")
    if statuses == (LocationStatus.APPROVED,):
        # A literal, not a parameter: the partial GiST index (WHERE status = 'approved')
        # is only usable when the planner can prove the predicate from the query text.
        clauses.append("l.status = 'approved'")
    else:
        clauses.append("l.status = ANY(%(statuses)s)")
        params["statuses"] = list(statuses)
    if filters.bbox is not None:
        # Across the antimeridian: two boxes, each still an index condition.
        overlaps, bbox_params = BBox.of(filters.bbox).sql_overlaps("l.point", prefix="bbox_")
        clauses.append(overlaps)
        params.update(bbox_params)
    if filters.categories:
        clauses.append("l.category = ANY(%(categories)s)")
        params["categories"] = list(filters.categories)
    return " WHERE " + " AND ".join(clauses), params


def export_query(*, filters: ExportFilters, fmt: str) -> tuple[str, dict]:
    """The SQL (and parameters) an export runs; tests EXPLAIN it."""
    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}")
    where, params = _where(filters)
    select = _GEOJSON_SELECT if fmt == FORMAT_GEOJSON else _CSV_SELECT
    return select + where, params


def export_count(*, filters: ExportFilters) -> int:
    where, params = _where(filters)
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM locations_location l" + where, params)  # noqa: S608
        return cursor.fetchone()[0]


def _fetch_chunks(sql: str, params: dict, chunk_size: int, using: str) -> Iterator[list[tuple]]:
    # A transaction keeps the named cursor WITHOUT HOLD: in autocommit Django declares it
    # WITH HOLD, and PostgreSQL then materialises the whole result before the first row.
    # Behind PgBouncer (DB_PGBOUNCER: server-side cursors off) the primary is read
    # through its direct connection instead (config.db_router.streaming_alias).
    using = streaming_alias(using)
    try:
        rows = None
        wrapper = connections[using]
        with transaction.atomic(using=using), wrapper.chunked_cursor() as cursor:
            cursor.execute(sql, params)
            while True:
                with wrapper.bounded_reads():  # each FETCH under the query deadline
                    rows = cursor.fetchmany(chunk_size)
                if not rows:
                    break
                yield rows
    except ReplicaUnavailable:
        # Before its first row, an export whose replica fails starts over on the primary;
        # after it, the download ends (a client sees a truncated file, as when the primary
        # fails).
        if rows is not None or using == DEFAULT_DB_ALIAS:
            raise
        yield from _fetch_chunks(sql, params, chunk_size, DEFAULT_DB_ALIAS)


def _copy_features(sql: str, params: dict, chunk_size: int, using: str) -> Iterator[list[bytes]]:
    """The one-column rows of `sql` (Features as JSON text) in lists of `chunk_size`, as
    COPY's text format writes them: each row ends with a newline and its backslashes are
    doubled (JSON text holds no raw control characters, the only other thing it escapes)."""
    using = streaming_alias(using)
    wrapper = connections[using]
    started = False
    try:
        with transaction.atomic(using=using), wrapper.cursor() as cursor, ExitStack() as stack:

            def start(sql: str, params: dict, many: bool, context: dict):
                return stack.enter_context(cursor.cursor.copy(sql, params))

            # Through the connection's execute wrappers (query deadline, a failing replica
            # -> ReplicaUnavailable), as Django's cursor runs every other statement.
            for execute_wrapper in reversed(wrapper.execute_wrappers):
                start = functools.partial(execute_wrapper, start)
            context = {"connection": wrapper, "cursor": cursor}
            copy = start(f"COPY ({sql}) TO STDOUT", params, False, context)
            rows = iter(copy)
            while True:
                # Each chunk's reading under the query deadline; the client's time is not.
                with wrapper.bounded_reads():
                    chunk = list(itertools.islice(rows, chunk_size))
                if not chunk:
                    break
                started = True
                yield chunk
    except ReplicaUnavailable:
        # As _fetch_chunks: before the first row, start over on the primary.
        if started or using == DEFAULT_DB_ALIAS:
            raise
        yield from _copy_features(sql, params, chunk_size, DEFAULT_DB_ALIAS)


def export_chunks(
    *,
    filters: ExportFilters,
    fmt: str,
    chunk_size: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Iterator[tuple[str, int]]:
    """Yield (text, rows_in_text) pieces of a complete GeoJSON or CSV document.

    The generator holds a database transaction and a cursor open until it is exhausted
    or closed; close it (or let the response close it) when the client goes away.
    `using`: the database alias to read (the API passes its read alias: a replica for
    anonymous exports, config.db_router).
    """
    chunk_size = chunk_size or settings.EXPORT_CHUNK_SIZE
    sql, params = export_query(filters=filters, fmt=fmt)
    # Not the *current* span: a generator resumes in a different context at each yield
    # under ASGI, and detaching a context there fails. The span is ended by hand.
    span = tracer.start_span("placemap.export.stream")
    span.set_attribute("placemap.export.format", fmt)
    total = 0
    try:
        if fmt == FORMAT_GEOJSON:
            yield GEOJSON_HEADER, 0
            first = True
            for rows in _copy_features(sql, params, chunk_size, using):
                # Back to the features' own text: newline-ended rows become ",\n"-joined
                # ones, doubled backslashes single again.
                data = b"".join(rows)[:-1].replace(b"\\\\", b"\\").replace(b"\n", b",\n")
                text = data.decode()
                yield (text if first else ",\n" + text), len(rows)
                first = False
                total += len(rows)
            yield GEOJSON_FOOTER, 0
        else:
            buffer = io.StringIO()
            writer = csv.writer(buffer, lineterminator="\r\n")
            writer.writerow(CSV_COLUMNS)
            yield buffer.getvalue(), 0
            for rows in _fetch_chunks(sql, params, chunk_size, using):
                buffer.seek(0)
                buffer.truncate()
                writer.writerows(rows)
                yield buffer.getvalue(), len(rows)
                total += len(rows)
    finally:
        span.set_attribute("placemap.export.rows", total)
        span.end()


def export_text(
    *,
    filters: ExportFilters,
    fmt: str,
    chunk_size: int | None = None,
    using: str = DEFAULT_DB_ALIAS,
) -> Iterator[str]:
    """The document as text pieces only (what an HTTP response streams)."""
    for text, _rows in export_chunks(filters=filters, fmt=fmt, chunk_size=chunk_size, using=using):
        yield text
