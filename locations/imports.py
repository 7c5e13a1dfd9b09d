"""Bulk import of places from CSV or GeoJSON files.

The file is parsed here, never by GDAL/OGR (GDAL < 3.9 cannot be stopped from opening
files or URLs named inside a dataset). Both readers stream: CSV line by line with the csv
module, GeoJSON feature by feature with ijson, so a million-row file never sits in memory.

Every row is validated with the API's own rules (LocationCreateInputSerializer). Valid
rows are COPYed into a temporary table, then merged into locations_location in batches of
`batch_size` with INSERT ... ON CONFLICT (external_id) DO UPDATE. The whole import is one
transaction: a dry run, an abort on the first bad row, or any crash leaves nothing behind.

Rules an operator should know (docs/import-export.md):
- A row's stable id is `external_id` (CSV column / GeoJSON property), else the CSV `id`
  column / the GeoJSON Feature `id`. Re-importing a file updates those places in place;
  rows without any id are always inserted.
- New places get the import's status (pending or approved) and no submitter. Existing
  places keep their moderation status: an import never unpublishes or revives a place
  a moderator decided on. An unchanged row is not rewritten.
- A later row repeating an external_id already seen in the file is a bad row.
- Imports do not notify the live map feed: a bulk load is not a stream of approvals.
- A large import (at least IMPORT_REBUILD_INDEXES_MIN_ROWS rows, and at least as many as
  the places table holds) locks the three tables it writes, drops their non-unique
  indexes and foreign keys, turns the grid-summary triggers off, merges, recomputes the
  summary once, and rebuilds the indexes and keys identically, all in its one
  transaction. If the locked places table is empty (a first load), the merge is a plain
  INSERT: every row is new.
- Each created or changed place gets a new version: `version` (1, or +1), an audit row
  in simple-history's table and an applied revision (source "import"), written set-wise
  in the merge statement itself.
"""

from __future__ import annotations

import csv
import io
import json
import math
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

import ijson
from django.conf import settings
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import connection, transaction
from django.utils import timezone
from opentelemetry import trace
from rest_framework import serializers

from config.text import CleanCharField, clean_text
from locations import categories, tile_cache
from locations.api.serializers import CategoryField, LocationCreateInputSerializer
from locations.constants import COORDINATE_DECIMALS
from locations.geo import quantize_degrees
from locations.models import GRID_LEVELS, LocationStatus

tracer = trace.get_tracer(__name__)

FORMAT_AUTO = "auto"
FORMAT_CSV = "csv"
FORMAT_GEOJSON = "geojson"
FORMATS = (FORMAT_AUTO, FORMAT_CSV, FORMAT_GEOJSON)
IMPORT_STATUSES = (LocationStatus.PENDING, LocationStatus.APPROVED)
ON_ERROR_SKIP = "skip"
ON_ERROR_ABORT = "abort"

EXTERNAL_ID_MAX_LENGTH = 200  # Location.external_id
CSV_REQUIRED_COLUMNS = ("name", "category", "longitude", "latitude")
CSV_TEXT_COLUMNS = ("name", "description", "category", "address")
# locations.exports prefixes cells starting with these by an apostrophe (CSV injection);
# the importer removes that apostrophe again so an export re-imports unchanged.
CSV_FORMULA_GUARD = "'"
CSV_FORMULA_CHARS = frozenset("=+-@\t\r")

UNIT_LINE = "line"
UNIT_FEATURE = "feature"

ProgressCallback = Callable[[str, int, int | None], None]
BadRowCallback = Callable[["BadRow"], None]


class ImportFileError(Exception):
    """The file cannot be read any further (not UTF-8, broken JSON, missing columns...).
    Nothing is imported; the message is meant for the person who sent the file."""


class ImportAborted(Exception):
    """A bad row was found with on_error='abort'; nothing was imported."""

    def __init__(self, report: ImportReport):
        super().__init__(f"Import aborted at {report.bad_rows[-1]}")
        self.report = report


@dataclass(frozen=True, slots=True)
class BadRow:
    number: int
    unit: str  # "line" (CSV, 1 = header) or "feature" (GeoJSON, 1 = first feature)
    errors: dict[str, list[str]]

    def __str__(self) -> str:
        reasons = " | ".join(f"{name}: {' '.join(msgs)}" for name, msgs in self.errors.items())
        return f"{self.unit} {self.number}: {reasons}"


@dataclass
class ImportReport:
    fmt: str
    status: str
    dry_run: bool
    rows_read: int = 0
    rows_valid: int = 0
    bad_row_count: int = 0
    # The first IMPORT_MAX_REPORTED_ERRORS bad rows, in file order; all are counted.
    bad_rows: list[BadRow] = field(default_factory=list)
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    rows_without_external_id: int = 0
    # Non-unique indexes dropped before the merge and built again after it (a large
    # import: _rebuild_indexes_wanted).
    indexes_rebuilt: int = 0

    def summary(self) -> str:
        rows = f"Rows: {self.rows_read} read, {self.rows_valid} valid, {self.bad_row_count} bad."
        if self.dry_run:
            places = (
                f"Places: {self.created} to create, {self.updated} to update, "
                f"{self.unchanged} unchanged; new places would be {self.status}."
            )
        else:
            places = (
                f"Places: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged; new places are {self.status}."
            )
        text = f"{rows} {places}"
        if self.rows_without_external_id:
            text += (
                f" Rows without external_id or id: {self.rows_without_external_id}"
                " (importing the file again would add them again)."
            )
        if self.indexes_rebuilt:
            text += f" Large import: {self.indexes_rebuilt} indexes were rebuilt after the insert."
        if self.dry_run:
            text += " Dry run: nothing was written."
        return text


# --- Reading ---------------------------------------------------------------------------


class _CountingReader(io.RawIOBase):
    """A binary file wrapper that counts the bytes read, for a progress bar in bytes."""

    def __init__(self, raw: IO[bytes]):
        self._raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self._raw.read(len(buffer))
        size = len(data)
        buffer[:size] = data
        self.bytes_read += size
        return size


def detect_format(path: Path, head: bytes) -> str:
    suffix = path.suffix.lower()
    if suffix in (".geojson", ".json"):
        return FORMAT_GEOJSON
    if suffix == ".csv":
        return FORMAT_CSV
    return FORMAT_GEOJSON if head.lstrip(b"\xef\xbb\xbf \t\r\n").startswith(b"{") else FORMAT_CSV


def _unguard(value: str) -> str:
    if len(value) > 1 and value[0] == CSV_FORMULA_GUARD and value[1] in CSV_FORMULA_CHARS:
        return value[1:]
    return value


def _iter_csv(raw: IO[bytes]) -> Iterator[tuple[int, dict | BadRow]]:
    text = io.TextIOWrapper(raw, encoding="utf-8-sig", newline="")
    reader = csv.reader(text)
    try:
        try:
            header = [column.strip().lower() for column in next(reader)]
        except StopIteration:
            raise ImportFileError("The file is empty: expected a CSV header row.") from None
        missing = [column for column in CSV_REQUIRED_COLUMNS if column not in header]
        if missing:
            raise ImportFileError(
                "The CSV header lacks the column(s) " + ", ".join(missing) + " (line 1)."
            )
        index = {column: position for position, column in enumerate(header)}
        width = len(header)
        while True:
            # line_num counts physical lines read, so a quoted multi-line cell still
            # reports the line its row starts on.
            start = reader.line_num + 1
            try:
                cells = next(reader)
            except StopIteration:
                return
            if not cells or (len(cells) == 1 and not cells[0].strip()):
                continue
            if len(cells) != width:
                yield (
                    start,
                    BadRow(
                        start,
                        UNIT_LINE,
                        {"row": [f"Expected {width} columns as in the header, got {len(cells)}."]},
                    ),
                )
                continue
            record = {
                name: _unguard(cells[index[name]])
                if name in CSV_TEXT_COLUMNS
                else cells[index[name]]
                for name in ("name", "description", "category", "address", "longitude", "latitude")
                if name in index
            }
            external_id = cells[index["external_id"]] if "external_id" in index else ""
            if not external_id.strip() and "id" in index:
                external_id = cells[index["id"]]
            record["external_id"] = external_id
            yield start, record
    except csv.Error as exc:
        raise ImportFileError(f"line {reader.line_num}: unreadable CSV ({exc}).") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"line {reader.line_num + 1}: the file is not UTF-8 text.") from None


def _check_geojson_head(raw: IO[bytes]) -> None:
    """Fail early unless the document is an object with type FeatureCollection (when the
    type comes before the features, as every writer puts it) and a features array."""
    try:
        events = ijson.parse(raw)
        if next(events, (None, None, None))[1] != "start_map":
            raise ImportFileError("Expected a GeoJSON FeatureCollection object.")
        for prefix, event, value in events:
            if prefix == "type" and event == "string" and value != "FeatureCollection":
                raise ImportFileError(
                    f"Expected a GeoJSON FeatureCollection, got type {str(value)[:40]!r}."
                )
            if prefix == "features":
                if event != "start_array":
                    raise ImportFileError("'features' must be an array.")
                return
        raise ImportFileError("The GeoJSON has no 'features' array.")
    except ijson.JSONError as exc:
        raise ImportFileError(f"Not valid JSON: {exc}.") from None


def _iter_geojson(raw: IO[bytes]) -> Iterator[tuple[int, dict | BadRow]]:
    number = 0
    try:
        for feature in ijson.items(raw, "features.item", use_float=True):
            number += 1
            yield number, _geojson_record(number, feature)
    except ijson.JSONError as exc:
        raise ImportFileError(f"Not valid JSON after feature {number}: {exc}.") from None
    except UnicodeDecodeError:
        raise ImportFileError(f"The file is not UTF-8 text (after feature {number}).") from None


def _geojson_record(number: int, feature: Any) -> dict | BadRow:
    def bad(name: str, message: str) -> BadRow:
        return BadRow(number, UNIT_FEATURE, {name: [message]})

    if not isinstance(feature, dict) or feature.get("type") != "Feature":
        return bad("type", "Expected a GeoJSON Feature.")
    geometry = feature.get("geometry")
    if not isinstance(geometry, dict):
        return bad("geometry", "A Point geometry is required.")
    if geometry.get("type") != "Point":
        return bad(
            "geometry",
            f"Only Point geometries can be imported, not {str(geometry.get('type'))[:40]}.",
        )
    coordinates = geometry.get("coordinates")
    # [lon, lat] or [lon, lat, altitude]; the altitude is dropped.
    if not isinstance(coordinates, list) or len(coordinates) not in (2, 3):
        return bad("geometry", "Point coordinates must be [longitude, latitude].")
    properties = feature.get("properties")
    if properties is None:
        properties = {}
    if not isinstance(properties, dict):
        return bad("properties", "Must be an object.")
    record = {
        key: properties[key]
        for key in ("name", "description", "category", "address")
        if properties.get(key) is not None
    }
    record["longitude"], record["latitude"] = coordinates[0], coordinates[1]
    external_id = properties.get("external_id")
    if external_id is None or (isinstance(external_id, str) and not external_id.strip()):
        external_id = feature.get("id")
    record["external_id"] = external_id
    return record


# --- Validating ------------------------------------------------------------------------
#
# Rows are checked set-wise in SQL on the staging table (_SqlRules, built from the
# serializer's own fields), after a minimal pass in Python that does only what SQL cannot
# do exactly: the text normalisation (config.text.clean_text: Python's Unicode tables) and
# reading numbers (Python's float(): Unicode digits, "1_000", overflow to infinity...).
# A row with anything the fast pass cannot hand over exactly (a value of another JSON
# type, a NUL, a lone surrogate, a number float() refuses) is validated by the serializer
# itself (RowValidator), as every row once was; those rows are rare and stay exact.


# Control characters (NUL cannot even be stored) and lone surrogates (not encodable).
_CONTROL_OR_SURROGATE = re.compile("[\x00-\x1f\ud800-\udfff]")
# What cannot reach PostgreSQL's text at all.
_NUL_OR_SURROGATE = re.compile("[\x00\ud800-\udfff]")
EXTERNAL_ID_TOO_LONG = f"Ensure this field has no more than {EXTERNAL_ID_MAX_LENGTH} characters."
EXTERNAL_ID_CONTROL = "Control characters are not allowed."
# The same class as _CONTROL_OR_SURROGATE, for SQL (NUL and surrogates never get there).
_EXTERNAL_ID_CONTROL_SQL = "[\x01-\x1f]"


def _clean_external_id(value: Any) -> str | None:
    """'' / None -> None; numbers (GeoJSON ids may be numbers) become their text."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise serializers.ValidationError("Must be a string or a number.")
    if isinstance(value, float) and not math.isfinite(value):
        raise serializers.ValidationError("Must be a finite number.")
    text = (value if isinstance(value, str) else str(value)).strip()
    if not text:
        return None
    if len(text) > EXTERNAL_ID_MAX_LENGTH:
        raise serializers.ValidationError(EXTERNAL_ID_TOO_LONG)
    if _CONTROL_OR_SURROGATE.search(text):
        raise serializers.ValidationError(EXTERNAL_ID_CONTROL)
    return text


class RowValidator:
    """The API's rules for one row: LocationCreateInputSerializer, run on a single bound
    instance. Building a serializer per row deep-copies its fields (most of the cost at a
    million rows); run_validation() on one instance applies exactly the same field rules
    and validators without that copy, and keeps no state between rows."""

    def __init__(self):
        # The categories as they are when the import starts: rows are validated while
        # they are COPYed in, when the connection cannot run another query.
        self._serializer = LocationCreateInputSerializer(
            context={"categories": categories.snapshot(fresh=True)}
        )

    def __call__(self, number: int, unit: str, record: dict) -> tuple | BadRow:
        external_id = record.pop("external_id", None)
        errors: dict[str, list[str]] = {}
        try:
            data = self._serializer.run_validation(record)
        except serializers.ValidationError as exc:
            detail = exc.detail if isinstance(exc.detail, dict) else {"row": exc.detail}
            errors = {name: [str(m) for m in messages] for name, messages in detail.items()}
            data = None
        try:
            external_id = _clean_external_id(external_id)
        except serializers.ValidationError as exc:
            errors["external_id"] = [str(m) for m in exc.detail]
        if errors:
            return BadRow(number, unit, errors)
        return (
            number,
            external_id,
            data["name"],
            data.get("description", ""),
            data["category"],
            data.get("address", ""),
            data["longitude"],
            data["latitude"],
        )


class _Slow(Exception):
    """The fast pass cannot hand this value to SQL exactly: the serializer decides."""


def _fast_text(value: Any, *, multiline: bool = False) -> str | None:
    if value is None:
        return None  # absent: SQL says "required" if the field is
    if type(value) is not str:
        raise _Slow
    cleaned = clean_text(value, multiline=multiline)
    if not cleaned.isprintable() and _NUL_OR_SURROGATE.search(cleaned):
        raise _Slow
    return cleaned


def _fast_category(value: Any) -> str | None:
    """The category as the serializer's CharField reads it: stripped, nothing else."""
    if value is None:
        return None
    if type(value) is not str or (not value.isprintable() and _NUL_OR_SURROGATE.search(value)):
        raise _Slow
    return value.strip()


def _fast_number(value: Any) -> float:
    kind = type(value)
    if kind is float:
        number = value
    elif kind is str:
        if len(value) > serializers.FloatField.MAX_STRING_LENGTH:
            raise _Slow
        try:
            number = float(value)  # what FloatField does
        except ValueError:
            raise _Slow from None
    elif kind is int:
        try:
            number = float(value)
        except OverflowError:
            raise _Slow from None
    else:
        raise _Slow
    if not math.isfinite(number):
        raise _Slow
    return number


def _fast_external_id(value: Any) -> str | None:
    if value is None:
        return None
    kind = type(value)
    if kind is str:
        text = value.strip()
    elif (kind is int and value.bit_length() < 700) or (kind is float and math.isfinite(value)):
        text = str(value)
    else:
        raise _Slow
    if not text:
        return None
    if not text.isprintable() and _NUL_OR_SURROGATE.search(text):
        raise _Slow
    return text


# The SQL code of a category refused by validate_category (its message: Snapshot.check).
_CATEGORY_CHECK = "category"


class _SqlRules:
    """The serializer's field rules as SQL over the staging table, one CASE per field
    giving the DRF error code that field would raise (or NULL), and the messages those
    codes stand for. Everything comes from the serializer's fields (limits, required,
    allow_blank, error_messages, field order); a field of a kind not handled here is an
    error at start, not a silently skipped rule."""

    def __init__(self, serializer: serializers.Serializer):
        self.fields: list[tuple[str, serializers.Field]] = []
        # The categories the serializer checks against (RowValidator: one snapshot for
        # the whole import).
        self.categories: categories.Snapshot = (
            serializer.context.get("categories") or categories.snapshot()
        )
        self.params: dict[str, Any] = {
            "categories_known": self.categories.known(),
            "categories_active": self.categories.active(),
            "external_id_max": EXTERNAL_ID_MAX_LENGTH,
            "external_id_control": _EXTERNAL_ID_CONTROL_SQL,
        }
        cases: dict[str, str] = {}
        for name, rule in serializer.fields.items():
            if name not in _STAGED_FIELDS:
                if rule.required:
                    raise TypeError(f"The import has no column for the required field {name}.")
                continue
            cases[name] = self._case(name, rule)
            self.fields.append((name, rule))
        cases["external_id"] = (
            "CASE WHEN length(external_id) > %(external_id_max)s THEN 'max_length'"
            " WHEN external_id ~ %(external_id_control)s THEN 'control' END"
        )
        # Each field's error code as a column, for the report ...
        self.cases = ", ".join(f"{sql} AS {name}_error" for name, sql in cases.items())
        self.bad = " OR ".join(f"{name}_error IS NOT NULL" for name in cases)
        # ... and as a condition on the staging table, to drop the bad rows.
        self.bad_inline = " OR ".join(f"({sql}) IS NOT NULL" for sql in cases.values())

    def _case(self, name: str, field: serializers.Field) -> str:
        missing = "'required'" if field.required else "NULL"
        if isinstance(field, CategoryField):
            # CharField's own checks, then validate_category's (Snapshot.check): a known
            # category, and an active one (every imported row counts as a new place).
            self.params[f"{name}_max"] = int(field.max_length)
            return (
                f"CASE WHEN {name} IS NULL THEN {missing} WHEN {name} = '' THEN 'blank'"
                f" WHEN length({name}) > %({name}_max)s THEN 'max_length'"
                f" WHEN NOT ({name} = ANY(%(categories_known)s)) THEN '{_CATEGORY_CHECK}'"
                f" WHEN NOT ({name} = ANY(%(categories_active)s)) THEN '{_CATEGORY_CHECK}' END"
            )
        if isinstance(field, serializers.CharField):
            if not isinstance(field, CleanCharField) or not field.trim_whitespace:
                raise TypeError(f"{name}: the import cleans text as CleanCharField does.")
            blank = "NULL" if field.allow_blank else "'blank'"
            sql = f"CASE WHEN {name} IS NULL THEN {missing} WHEN {name} = '' THEN {blank}"
            if field.max_length is not None:
                self.params[f"{name}_max"] = int(field.max_length)
                sql += f" WHEN length({name}) > %({name}_max)s THEN 'max_length'"
            if field.min_length is not None:
                self.params[f"{name}_min"] = int(field.min_length)
                sql += f" WHEN length({name}) < %({name}_min)s THEN 'min_length'"
            return sql + " END"
        if isinstance(field, serializers.FloatField):
            sql = f"CASE WHEN {name} IS NULL THEN {missing}"
            # DRF's validators in its order: the maximum, then the minimum.
            if field.max_value is not None:
                self.params[f"{name}_max"] = float(field.max_value)
                sql += f" WHEN {name} > %({name}_max)s THEN 'max_value'"
            if field.min_value is not None:
                self.params[f"{name}_min"] = float(field.min_value)
                sql += f" WHEN {name} < %({name}_min)s THEN 'min_value'"
            return sql + " END"
        raise TypeError(f"No SQL rule for the serializer field {name} ({type(field).__name__}).")

    def errors(self, codes: dict[str, str | None], raw: dict[str, Any]) -> dict[str, list[str]]:
        """The serializer's messages for the codes one row got, in its field order."""
        errors: dict[str, list[str]] = {}
        for name, rule in self.fields:
            code = codes[name]
            if code is None:
                continue
            if code == _CATEGORY_CHECK:
                errors[name] = self._category_messages(raw.get(name))
                continue
            template = rule.error_messages[code]
            errors[name] = [
                str(template).format(
                    input=raw.get(name),
                    max_length=getattr(rule, "max_length", None),
                    min_length=getattr(rule, "min_length", None),
                    max_value=getattr(rule, "max_value", None),
                    min_value=getattr(rule, "min_value", None),
                )
            ]
        if codes["external_id"] == "max_length":
            errors["external_id"] = [EXTERNAL_ID_TOO_LONG]
        elif codes["external_id"] == "control":
            errors["external_id"] = [EXTERNAL_ID_CONTROL]
        return errors

    def _category_messages(self, slug: str) -> list[str]:
        try:
            self.categories.check(slug)
        except DjangoValidationError as exc:
            return list(exc.message_dict["category"])
        raise AssertionError(f"SQL refused the category {slug!r}, the snapshot did not.")


# --- Writing ---------------------------------------------------------------------------

_TEMP_TABLE = "placemap_import_rows"

# One row per record read, good or bad: `ord` is its place among the records (what
# rows_read was when it was read), `errors` the JSON of the errors already known in
# Python (a row the parser or the serializer refused), NULL for a row SQL still checks.
# Text is cleaned; longitude/latitude are the numbers read, lon_q/lat_q the same rounded
# to the stored precision (locations.geo.quantize_degrees, after the range check).
_STAGED_FIELDS = ("name", "description", "category", "address", "latitude", "longitude")
_STAGED_COLUMNS = (
    "ord, number, errors, external_id, name, description, category, address,"
    " longitude, latitude, lon_q, lat_q"
)
_CREATE_TEMP = f"""
CREATE TEMPORARY TABLE {_TEMP_TABLE} (
    ord integer NOT NULL,
    number integer NOT NULL,
    errors text,
    external_id text,
    name text,
    description text,
    category text,
    address text,
    longitude double precision,
    latitude double precision,
    lon_q double precision,
    lat_q double precision
) ON COMMIT DROP
"""

# Later rows repeating an external_id (among the valid rows): removed from the load and
# reported. Only ids seen twice are ranked, so the window sorts a handful of rows.
_DELETE_DUPLICATES = f"""
WITH repeated AS (
    SELECT external_id FROM {_TEMP_TABLE}
    WHERE external_id IS NOT NULL
    GROUP BY external_id HAVING count(*) > 1
),
ranked AS (
    SELECT t.ord, t.number, t.external_id,
           first_value(t.number) OVER (PARTITION BY t.external_id ORDER BY t.ord)
               AS first_number
    FROM {_TEMP_TABLE} t JOIN repeated USING (external_id)
)
DELETE FROM {_TEMP_TABLE} t USING ranked r
WHERE t.ord = r.ord AND r.number <> r.first_number
RETURNING r.number, r.external_id, r.first_number
"""  # noqa: S608 (a constant table name)

_CHANGED = """(l.name, l.description, l.category, l.address, l.point)
    IS DISTINCT FROM ({p}name, {p}description, {p}category, {p}address, {p}point)"""

# The valid rows again, numbered (`ord`, 1..n) in spatial order for the merge: each batch
# then covers one compact area, so the grid-summary trigger folds it into few cells, and
# the GiST indexes and the grid table see neighbouring pages instead of the whole map at
# every batch. (A geohash is a Z-order key; 8 characters are cells of about 38 x 19 m.)
# The file's order does not matter here: repeated external ids are already gone, so
# no two rows write the same place.
_MERGE_TABLE = "placemap_import_merge"
_CREATE_MERGE_TABLE = f"""
CREATE TEMPORARY TABLE {_MERGE_TABLE} ON COMMIT DROP AS
SELECT row_number() OVER (
           ORDER BY ST_GeoHash(ST_MakePoint(lon_q, lat_q), 8), external_id, ord
       )::integer AS ord,
       external_id, name, description, category, address, lon_q, lat_q
FROM {_TEMP_TABLE}
"""  # noqa: S608 (constant table names)

# A new place's changes: every field, before null (built directly: most rows of a first
# load).
_NEW_CHANGES_SQL = f"""jsonb_build_object(
        'name', jsonb_build_object('before', NULL, 'after', to_jsonb(m.name)),
        'description', jsonb_build_object('before', NULL, 'after', to_jsonb(m.description)),
        'category', jsonb_build_object('before', NULL, 'after', to_jsonb(m.category)),
        'address', jsonb_build_object('before', NULL, 'after', to_jsonb(m.address)),
        'point', jsonb_build_object(
            'before', NULL, 'after', ST_AsGeoJSON(m.point, {COORDINATE_DECIMALS})::jsonb
        )
    )"""

# The content before the merge, for the revisions' before/after: every part of one
# statement reads the same snapshot, so `old` sees the rows as they were.
_CHANGES_SQL = f"""CASE WHEN o.id IS NULL THEN
    {_NEW_CHANGES_SQL}
ELSE (
    SELECT COALESCE(
        jsonb_object_agg(f.key, jsonb_build_object('before', f.before, 'after', f.after)),
        '{{}}'::jsonb
    )
    FROM (VALUES
        ('name', to_jsonb(o.name), to_jsonb(m.name)),
        ('description', to_jsonb(o.description), to_jsonb(m.description)),
        ('category', to_jsonb(o.category), to_jsonb(m.category)),
        ('address', to_jsonb(o.address), to_jsonb(m.address)),
        ('point', ST_AsGeoJSON(o.point, {COORDINATE_DECIMALS})::jsonb,
                  ST_AsGeoJSON(m.point, {COORDINATE_DECIMALS})::jsonb)
    ) AS f(key, before, after)
    WHERE f.before IS DISTINCT FROM f.after
) END"""  # noqa: S608 (constant fragments only)

_INSERT_PLACES = f"""INSERT INTO locations_location AS l (
        id, name, description, category, address, point, status, submitter_id,
        external_id, created_at, updated_at, approved_at, version
    )
    SELECT gen_random_uuid(), t.name, COALESCE(t.description, ''), t.category,
           COALESCE(t.address, ''), ST_SetSRID(ST_MakePoint(t.lon_q, t.lat_q), 4326),
           %(status)s, NULL, t.external_id, %(now)s, %(now)s, %(approved_at)s, 1
    FROM {_MERGE_TABLE} t
    WHERE t.ord > %(after)s AND t.ord <= %(until)s"""  # noqa: S608 (a constant table name)

_RETURNING = """RETURNING l.id, l.name, l.description, l.category, l.address, l.point, l.status,
              l.submitter_id, l.external_id, l.created_at, l.updated_at, l.approved_at,
              l.version, (xmax = 0) AS inserted"""


def _merge_batch_sql(*, places: str, changes: str, old_join: str) -> str:
    """One statement per batch writes the places, their audit rows (simple-history's
    table, as HistoricalRecords would, but set-wise: no row-by-row save()) and their
    revisions (an applied version each, source "import")."""
    return f"""
{places}
history AS (
    INSERT INTO locations_historicallocation (
        id, name, description, category, address, point, status, submitter_id,
        external_id, created_at, updated_at, approved_at, version,
        history_date, history_change_reason, history_type, history_user_id
    )
    SELECT m.id, m.name, m.description, m.category, m.address, m.point, m.status,
           m.submitter_id, m.external_id, m.created_at, m.updated_at, m.approved_at,
           m.version, %(now)s, 'import', CASE WHEN m.inserted THEN '+' ELSE '~' END,
           %(user_id)s
    FROM merged m
),
revisions AS (
    INSERT INTO locations_locationrevision (
        id, location_id, name, description, category, address, point, base_version,
        version, status, author_id, source, changes, created_at, reason_code, reason
    )
    SELECT gen_random_uuid(), m.id, m.name, m.description, m.category, m.address,
           m.point, m.version - 1, m.version, 'applied', NULL, 'import',
           {changes}, %(now)s, '', ''
    FROM merged m{old_join}
)
SELECT count(*) FILTER (WHERE inserted), count(*) FILTER (WHERE NOT inserted) FROM merged
"""  # noqa: S608 (constant fragments; values are query parameters)


_MERGE_BATCH = _merge_batch_sql(
    places=f"""WITH old AS (
    SELECT l.id, l.name, l.description, l.category, l.address, l.point
    FROM locations_location l
    JOIN {_MERGE_TABLE} t ON t.external_id = l.external_id
    WHERE t.ord > %(after)s AND t.ord <= %(until)s
),
merged AS (
    {_INSERT_PLACES}
    ON CONFLICT (external_id) DO UPDATE SET
        name = EXCLUDED.name,
        description = EXCLUDED.description,
        category = EXCLUDED.category,
        address = EXCLUDED.address,
        point = EXCLUDED.point,
        updated_at = EXCLUDED.updated_at,
        version = l.version + 1
    -- An unchanged row is not rewritten: re-importing a file is a no-op.
    WHERE {_CHANGED.format(p="EXCLUDED.")}
    -- xmax = 0 only on a freshly inserted row version.
    {_RETURNING}
),""",  # noqa: S608 (constant fragments)
    changes=_CHANGES_SQL,
    old_join="\n    LEFT JOIN old o ON o.id = m.id",
)

# The same for a large import into a table that was empty when it was locked (nobody
# else can write it until the commit, and repeated external ids are gone already): every
# row is new, so a plain INSERT, without ON CONFLICT's speculative insertion (an arbiter
# index probe and one more WAL record per row) nor the `old` join. About 15% of a
# batch's time (docs/benchmarks.md, "Bulk import: a first load").
_INSERT_BATCH = _merge_batch_sql(
    places=f"""WITH merged AS (
    {_INSERT_PLACES}
    {_RETURNING}
),""",
    changes=_NEW_CHANGES_SQL,
    old_join="",
)

_DRY_RUN_COUNTS = f"""
SELECT count(*) FILTER (WHERE l.id IS NULL),
       count(*) FILTER (WHERE l.id IS NOT NULL AND {_CHANGED.format(p="n.")})
FROM (
    SELECT t.external_id, t.name, COALESCE(t.description, '') AS description, t.category,
           COALESCE(t.address, '') AS address,
           ST_SetSRID(ST_MakePoint(t.lon_q, t.lat_q), 4326) AS point
    FROM {_TEMP_TABLE} t
) n
LEFT JOIN locations_location l ON l.external_id = n.external_id
"""  # noqa: S608 (constant fragments)


# The tables the merge writes. Their non-unique indexes are what a large import drops
# and rebuilds (PostgreSQL's "Populating a Database"): the unique ones stay, since the
# upsert and the constraints need them (ON CONFLICT on external_id, primary keys, one
# pending revision per place); so do the foreign keys and the grid triggers.
_MERGED_TABLES = (
    "locations_location",
    "locations_historicallocation",
    "locations_locationrevision",
)
# Valid, ready, plain indexes only: one backing a constraint, an exclusion or a unique
# rule, or in a tablespace of its own (pg_get_indexdef does not say which), is left alone.
_REBUILDABLE_INDEXES = """
SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid)
FROM pg_index i
JOIN pg_class c ON c.oid = i.indexrelid
WHERE i.indrelid = ANY(%(tables)s::regclass[])
  AND NOT i.indisunique AND NOT i.indisprimary AND NOT i.indisexclusion
  AND i.indisvalid AND i.indisready AND i.indislive
  AND c.reltablespace = 0
  AND NOT EXISTS (SELECT FROM pg_constraint k WHERE k.conindid = i.indexrelid)
ORDER BY i.indrelid, c.relname
"""


def _rebuild_indexes_wanted(cursor, rows: int) -> bool:
    """The rule (docs/import-export.md, "Large imports"): at least
    IMPORT_REBUILD_INDEXES_MIN_ROWS rows to merge, and no fewer than the places table
    holds (counted up to `rows`, so a large table is not scanned in full)."""
    if rows < settings.IMPORT_REBUILD_INDEXES_MIN_ROWS:
        return False
    cursor.execute(
        "SELECT count(*) FROM (SELECT FROM locations_location LIMIT %s) s",
        [rows + 1],
    )
    return cursor.fetchone()[0] <= rows


def _drop_indexes(cursor) -> list[tuple[str, str]]:
    """Lock the merged tables, drop their rebuildable indexes and return their names and
    definitions (as pg_get_indexdef gives them, to be run again unchanged). Inside the
    import's transaction: if anything fails before the commit, the drops roll back."""
    # All three locks before any change, always in this order, so two large imports (or
    # an import and a migration taking them in the same order) wait instead of deadlocking.
    cursor.execute("LOCK TABLE " + ", ".join(_MERGED_TABLES) + " IN ACCESS EXCLUSIVE MODE")
    cursor.execute(_REBUILDABLE_INDEXES, {"tables": list(_MERGED_TABLES)})
    indexes = cursor.fetchall()
    for name, _definition in indexes:
        cursor.execute(f"DROP INDEX {name}")
    return indexes


# The deferred constraints (foreign keys) as every transaction starts with them:
# PostgreSQL builds no index and alters no table with trigger events still queued, so a
# large import runs the queued checks (SET CONSTRAINTS ALL IMMEDIATE) and sets these back
# to deferred for the rest of the transaction.
_INITIALLY_DEFERRED = """
SELECT DISTINCT format('%I.%I', n.nspname, k.conname)
FROM pg_constraint k JOIN pg_namespace n ON n.oid = k.connamespace
WHERE k.condeferrable AND k.condeferred AND n.nspname = ANY(current_schemas(false))
ORDER BY 1
"""


def _fire_deferred_constraints(cursor) -> None:
    """Run every check queued so far in this transaction (the merge's, and a caller's own
    writes before the import, which may touch the tables whose keys the import drops);
    the constraints stay deferred afterwards."""
    cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    cursor.execute(_INITIALLY_DEFERRED)
    deferred = ", ".join(name for (name,) in cursor.fetchall())
    if deferred:
        cursor.execute(f"SET CONSTRAINTS {deferred} DEFERRED")


def _recreate_indexes(
    cursor, indexes: list[tuple[str, str]], on_progress: ProgressCallback
) -> None:
    _fire_deferred_constraints(cursor)
    cursor.execute(
        "SELECT set_config('maintenance_work_mem', %s, true)",
        [f"{settings.IMPORT_MAINTENANCE_WORK_MEM_MB}MB"],
    )
    on_progress("index", 0, len(indexes))
    for done, (_name, definition) in enumerate(indexes, start=1):
        cursor.execute(definition)
        on_progress("index", done, len(indexes))


# The merged tables' foreign keys, dropped by a large import with the indexes and added
# back after the rebuild: one validation query each (an anti-join over the table) instead
# of a queued check per inserted row and key (about nine per place; ~15 s for 1M places).
# Added back last, right before the commit: ADD FOREIGN KEY also locks the referenced
# tables (accounts_user, locations_category) against writes until the commit.
_FOREIGN_KEYS = """
SELECT k.conrelid::regclass::text, quote_ident(k.conname), pg_get_constraintdef(k.oid)
FROM pg_constraint k
WHERE k.conrelid = ANY(%(tables)s::regclass[]) AND k.contype = 'f'
ORDER BY k.conrelid, k.conname
"""


def _drop_foreign_keys(cursor) -> list[tuple[str, str, str]]:
    """Drop the merged tables' foreign keys (their tables are locked: _drop_indexes) and
    return them as pg_get_constraintdef gives them, to be added back unchanged
    (deferrability included)."""
    # Checks still queued from earlier in the transaction (a caller's own writes) run
    # first: PostgreSQL alters no table with trigger events pending.
    _fire_deferred_constraints(cursor)
    cursor.execute(_FOREIGN_KEYS, {"tables": list(_MERGED_TABLES)})
    foreign_keys = cursor.fetchall()
    for table, name, _definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} DROP CONSTRAINT {name}")
    return foreign_keys


def _add_foreign_keys(cursor, foreign_keys: list[tuple[str, str, str]]) -> None:
    # A row breaking one fails the ALTER, and with it the whole import.
    for table, name, definition in foreign_keys:
        cursor.execute(f"ALTER TABLE {table} ADD CONSTRAINT {name} {definition}")


# The grid-summary triggers the merge fires (migration 0002; the delete and truncate ones
# never fire in an import). A large import turns them off for its merge and computes the
# summary once, set-wise, afterwards: each batch's fold into locations_gridcell (seven
# levels, an upsert per cell) is most of what a batch costs beyond its own rows.
_GRID_TRIGGERS = ("locations_gridcell_insert", "locations_gridcell_update")


# The summary from scratch, as the triggers' fold would leave it (migration 0003's
# locations_grid_cell and locations_grid_sum_term): the finest level aggregated from every
# approved place, then each coarser level from the one below it. Exact for the cells and
# counts: a level's cell size is 360 / 2**level, so x / size is x / 360 scaled by a power
# of two and a coarser cell number is the finer one shifted right (a floor for negative
# numbers too, and 0 / -1 stay 0 / -1 for the |x| < 1e-300 the cell function pins); only
# the float sums may differ from the triggers' in their last bits (another order of
# addition). Rows go in in key order, so the primary-key btree is filled left to right.
def _refold_grid_sql(levels: tuple[int, ...]) -> str:
    finest, *coarser = sorted(levels, reverse=True)
    steps = [
        f"""g{finest} AS MATERIALIZED (
    SELECT locations_grid_cell(p.x, 360.0::float8 / (1 << {finest}))::int AS cx,
           locations_grid_cell(p.y, 360.0::float8 / (1 << {finest}))::int AS cy,
           p.category, count(*)::int AS n,
           sum(locations_grid_sum_term(p.x)) AS sum_lon,
           sum(locations_grid_sum_term(p.y)) AS sum_lat
    FROM (
        SELECT category, ST_X(point) AS x, ST_Y(point) AS y
        FROM locations_location WHERE status = 'approved'
    ) p
    GROUP BY 1, 2, 3
)"""  # noqa: S608 (integer levels only)
    ]
    finer = finest
    for level in coarser:
        shift = finer - level
        steps.append(
            f"""g{level} AS MATERIALIZED (
    SELECT cx >> {shift} AS cx, cy >> {shift} AS cy, category, sum(n)::int AS n,
           sum(sum_lon) AS sum_lon, sum(sum_lat) AS sum_lat
    FROM g{finer} GROUP BY 1, 2, 3
)"""  # noqa: S608 (integer levels only)
        )
        finer = level
    union = "\n    UNION ALL ".join(
        f"SELECT {level}, cx, cy, category, n, sum_lon, sum_lat FROM g{level}"  # noqa: S608
        for level in sorted(levels)
    )
    ctes = ",\n".join(steps)
    return f"""WITH {ctes}
INSERT INTO locations_gridcell (level, cx, cy, category, n, sum_lon, sum_lat)
SELECT * FROM (
    {union}
) c ORDER BY 1, 2, 3, 4"""  # noqa: S608 (integer levels only)


_REFOLD_GRID = _refold_grid_sql(GRID_LEVELS)


def _set_grid_triggers(cursor, *, enabled: bool) -> None:
    """Turn the grid triggers off or on, inside the import's transaction (the table is
    locked ACCESS EXCLUSIVE already: nobody else writes a place meanwhile, and a rollback
    turns them back on)."""
    action = "ENABLE" if enabled else "DISABLE"
    cursor.execute(
        "ALTER TABLE locations_location "
        + ", ".join(f"{action} TRIGGER {name}" for name in _GRID_TRIGGERS)
    )


def _refold_grid(cursor) -> None:
    """The summary of every approved place, computed once after a large import's merge,
    and the grid triggers on again. Exact for the whole table, not only the imported
    rows: the large-import rule means the import is at least as large as what was there,
    so this costs at most twice the import's own rows."""
    # Queued trigger events would make PostgreSQL refuse the ALTER TABLE below (none with
    # the foreign keys off; this keeps it so should a deferred constraint be added).
    _fire_deferred_constraints(cursor)
    cursor.execute("DELETE FROM locations_gridcell")
    cursor.execute(
        "SELECT set_config('work_mem', %s, true)",
        [f"{settings.IMPORT_MAINTENANCE_WORK_MEM_MB}MB"],
    )
    cursor.execute(_REFOLD_GRID)
    cursor.execute("ANALYZE locations_gridcell")
    _set_grid_triggers(cursor, enabled=True)


class _Rollback(Exception):
    """Leaves transaction.atomic() with a rollback (dry run); never escapes this module."""


def locations_import(
    *,
    path: Path | str,
    fmt: str = FORMAT_AUTO,
    status: str = LocationStatus.PENDING,
    dry_run: bool = False,
    on_error: str = ON_ERROR_SKIP,
    batch_size: int | None = None,
    on_progress: ProgressCallback | None = None,
    on_bad_row: BadRowCallback | None = None,
    user_id: int | None = None,
) -> ImportReport:
    """Validate every row of a CSV or GeoJSON file and upsert the valid ones.

    `user_id` is who imports (the audit trail's history_user: the console's operator, or
    `import_locations --user`); None when nobody is named.

    Raises ImportFileError (unreadable file) or ImportAborted (a bad row with
    on_error='abort'); in both cases nothing is written. `on_progress(phase, done, total)`
    is called with phase "read" (bytes), "write" (rows) and, for a large import that
    rebuilds indexes, "index" (indexes); `on_bad_row` with each bad row as it is found.
    """
    path = Path(path)
    if fmt not in FORMATS:
        raise ValueError(f"Unknown import format {fmt!r}")
    if status not in IMPORT_STATUSES:
        raise ValueError(f"Imported places are pending or approved, not {status!r}")
    if on_error not in (ON_ERROR_SKIP, ON_ERROR_ABORT):
        raise ValueError(f"on_error must be skip or abort, not {on_error!r}")
    batch_size = batch_size or settings.IMPORT_BATCH_SIZE
    if batch_size < 1:
        raise ValueError("batch_size must be at least 1")
    total_bytes = path.stat().st_size
    with path.open("rb") as raw:
        if fmt == FORMAT_AUTO:
            fmt = detect_format(path, raw.read(64))
            raw.seek(0)
        if fmt == FORMAT_GEOJSON:
            _check_geojson_head(raw)
            raw.seek(0)
        report = ImportReport(fmt=fmt, status=status, dry_run=dry_run)
        with tracer.start_as_current_span("placemap.import.run") as span:
            span.set_attribute("placemap.import.format", fmt)
            span.set_attribute("placemap.import.dry_run", dry_run)
            try:
                with transaction.atomic():
                    _run(
                        raw=raw,
                        total_bytes=total_bytes,
                        report=report,
                        on_error=on_error,
                        batch_size=batch_size,
                        on_progress=on_progress or (lambda *_: None),
                        on_bad_row=on_bad_row or (lambda _row: None),
                        user_id=user_id,
                    )
                    if dry_run:
                        raise _Rollback
                    # Not on the live feed, but tiles remembered for revalidation are
                    # stale once it commits (locations.tile_cache).
                    tile_cache.map_changed_on_commit()
            except _Rollback:
                pass
            span.set_attribute("placemap.import.rows", report.rows_read)
            span.set_attribute("placemap.import.bad_rows", report.bad_row_count)
    return report


def _record_bad_row(report: ImportReport, bad: BadRow, on_bad_row: BadRowCallback) -> None:
    report.bad_row_count += 1
    if len(report.bad_rows) < settings.IMPORT_MAX_REPORTED_ERRORS:
        report.bad_rows.append(bad)
    on_bad_row(bad)


def _run(
    *,
    raw: IO[bytes],
    total_bytes: int,
    report: ImportReport,
    on_error: str,
    batch_size: int,
    on_progress: ProgressCallback,
    on_bad_row: BadRowCallback,
    user_id: int | None,
) -> None:
    counting = _CountingReader(raw)
    reader = io.BufferedReader(counting, buffer_size=256 * 1024)
    if report.fmt == FORMAT_CSV:
        records, unit = _iter_csv(reader), UNIT_LINE
    else:
        records, unit = _iter_geojson(reader), UNIT_FEATURE
    abort = on_error == ON_ERROR_ABORT
    validate = RowValidator()
    rules = _SqlRules(validate._serializer)
    file_error: ImportFileError | None = None
    with connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS {_TEMP_TABLE}")
        cursor.execute(_CREATE_TEMP)
        # Phase 1: parse, prepare and COPY every record (the fastest way in).
        with (
            tracer.start_as_current_span("placemap.import.copy"),
            cursor.copy(f"COPY {_TEMP_TABLE} ({_STAGED_COLUMNS}) FROM STDIN") as copy,
        ):
            try:
                for number, record in records:
                    report.rows_read += 1
                    row = _prepare(report.rows_read, number, unit, record, validate)
                    copy.write_row(row)
                    if row[2] is not None and abort:
                        break  # a bad row: nothing after it matters (nor is read)
                    if report.rows_read % 1000 == 0:
                        on_progress("read", counting.bytes_read, total_bytes)
            except ImportFileError as exc:
                # Rows before the broken part were reported (or aborted on) before it,
                # as when each row was checked as it was read: finish the COPY first.
                file_error = exc
        if file_error is None:
            on_progress("read", total_bytes, total_bytes)
        cursor.execute(f"ANALYZE {_TEMP_TABLE}")

        # Phase 2: the rules, set-wise; bad rows reported in file order.
        with tracer.start_as_current_span("placemap.import.validate"):
            bad_count = _report_bad_rows(rules, report, unit, abort=abort, on_bad_row=on_bad_row)
            if file_error is not None:
                raise file_error
            if bad_count:
                cursor.execute(
                    f"DELETE FROM {_TEMP_TABLE} WHERE errors IS NOT NULL OR {rules.bad_inline}",  # noqa: S608
                    rules.params,
                )

        # Phase 3: a later row repeating an external_id is a bad row.
        with tracer.start_as_current_span("placemap.import.duplicates"):
            cursor.execute(_DELETE_DUPLICATES)
            duplicates = sorted(cursor.fetchall())
        for number, external_id, first_number in duplicates:
            _record_bad_row(
                report,
                BadRow(
                    number,
                    unit,
                    {"external_id": [f"{external_id!r} already appears in {unit} {first_number}."]},
                ),
                on_bad_row,
            )
            if abort:
                raise ImportAborted(report)
        report.bad_rows.sort(key=lambda bad: bad.number)
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE external_id IS NULL), max(ord)"  # noqa: S608
            f" FROM {_TEMP_TABLE}"
        )
        report.rows_valid, report.rows_without_external_id, last = cursor.fetchone()
        last = last or 0

        # Phase 4: merge (in batches of ord, each statement short and reporting progress).
        merge_span = tracer.start_span("placemap.import.merge")
        if report.dry_run:
            cursor.execute(_DRY_RUN_COUNTS)
            report.created, report.updated = cursor.fetchone()
        else:
            _merge(cursor, report, batch_size=batch_size, on_progress=on_progress, user_id=user_id)
        merge_span.end()
        report.unchanged = report.rows_valid - report.created - report.updated


def _merge(
    cursor,
    report: ImportReport,
    *,
    batch_size: int,
    on_progress: ProgressCallback,
    user_id: int | None,
) -> None:
    """Phase 4 of a real import: the valid rows in geohash order, merged batch by batch
    (a large import with its indexes, foreign keys and grid triggers off, then back:
    _rebuild_indexes_wanted)."""
    large = _rebuild_indexes_wanted(cursor, report.rows_valid)
    rebuilt: list[tuple[str, str]] = []
    foreign_keys: list[tuple[str, str, str]] = []
    statement = _MERGE_BATCH
    if large:
        rebuilt = _drop_indexes(cursor)
        foreign_keys = _drop_foreign_keys(cursor)
        _set_grid_triggers(cursor, enabled=False)
        # Locked ACCESS EXCLUSIVE since _drop_indexes: empty now, empty until the merge.
        cursor.execute("SELECT NOT EXISTS (SELECT FROM locations_location)")
        if cursor.fetchone()[0]:
            statement = _INSERT_BATCH
    cursor.execute(_CREATE_MERGE_TABLE)
    last = cursor.rowcount
    cursor.execute(f"DROP TABLE {_TEMP_TABLE}")
    if last > batch_size:
        cursor.execute(f"CREATE INDEX ON {_MERGE_TABLE} (ord)")
    cursor.execute(f"ANALYZE {_MERGE_TABLE}")
    now = timezone.now()
    params = {
        "status": report.status,
        "now": now,
        "approved_at": now if report.status == LocationStatus.APPROVED else None,
        "user_id": user_id,
    }
    for after in range(0, last, batch_size):
        cursor.execute(statement, {**params, "after": after, "until": after + batch_size})
        created, updated = cursor.fetchone()
        report.created += created
        report.updated += updated
        on_progress("write", min(after + batch_size, last), last)
    cursor.execute(f"DROP TABLE {_MERGE_TABLE}")
    if large:
        with tracer.start_as_current_span("placemap.import.grid"):
            _refold_grid(cursor)
        with tracer.start_as_current_span("placemap.import.reindex"):
            _recreate_indexes(cursor, rebuilt, on_progress)
        report.indexes_rebuilt = len(rebuilt)
        with tracer.start_as_current_span("placemap.import.foreign_keys"):
            _add_foreign_keys(cursor, foreign_keys)


def _prepare(ord_: int, number: int, unit: str, record: dict | BadRow, validate) -> tuple:
    """The COPY row for one record: its values ready for the SQL rules, or, when the fast
    pass cannot hand them over exactly, what the serializer made of them."""
    if isinstance(record, BadRow):
        return (ord_, number, json.dumps(record.errors), *_NO_VALUES)
    try:
        longitude = _fast_number(record["longitude"])
        latitude = _fast_number(record["latitude"])
        return (
            ord_,
            number,
            None,
            _fast_external_id(record.get("external_id")),
            _fast_text(record.get("name")),
            _fast_text(record.get("description"), multiline=True),
            _fast_category(record.get("category")),
            _fast_text(record.get("address")),
            longitude,
            latitude,
            quantize_degrees(longitude),
            quantize_degrees(latitude),
        )
    except _Slow:
        pass
    checked = validate(number, unit, record)
    if isinstance(checked, BadRow):
        return (ord_, number, json.dumps(checked.errors), *_NO_VALUES)
    _, external_id, name, description, category, address, longitude, latitude = checked
    return (
        ord_,
        number,
        None,
        external_id,
        name,
        description,
        category,
        address,
        longitude,
        latitude,
        longitude,
        latitude,
    )


_NO_VALUES = (None,) * 9


def _report_bad_rows(
    rules: _SqlRules, report: ImportReport, unit: str, *, abort: bool, on_bad_row: BadRowCallback
) -> int:
    """Report the staged rows that break a rule, in file order (streamed from a
    server-side cursor: a file of bad rows does not sit in memory). With abort, only the
    first, and rows_read is where reading would have stopped."""
    names = [name for name, _ in rules.fields]
    query = (
        f"SELECT ord, number, errors, category, external_id_error,"  # noqa: S608
        f" {', '.join(f'{name}_error' for name in names)}"
        f" FROM (SELECT ord, number, errors, category, {rules.cases} FROM {_TEMP_TABLE}) c"
        f" WHERE errors IS NOT NULL OR {rules.bad} ORDER BY ord"
    )
    if abort:
        query += " LIMIT 1"
    count = 0
    with connection.chunked_cursor() as cursor:
        cursor.execute(query, rules.params)
        while rows := cursor.fetchmany(2000):
            for ord_, number, errors_json, category, external_id_error, *codes in rows:
                if errors_json is not None:
                    errors = json.loads(errors_json)
                else:
                    errors = rules.errors(
                        {**dict(zip(names, codes, strict=True)), "external_id": external_id_error},
                        {"category": category},
                    )
                count += 1
                _record_bad_row(report, BadRow(number, unit, errors), on_bad_row)
                if abort:
                    report.rows_read = ord_
                    raise ImportAborted(report)
    return count
