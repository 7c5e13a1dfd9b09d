"""The one text form of a UTC timestamp in Placemap's GeoJSON.

UTC, always six fractional digits, "Z": `2026-05-01T12:00:00.000000Z`. The Python and
the SQL forms write the same text, so a place reads the same in its detail (built in
Python) as in search and the viewport (built in SQL). It is the form of the public
GeoJSON properties (created_at, updated_at, approved_at).

Not every output uses it (yet), and switching one would change a public response:
- DRF's default DateTimeField (moderation, photos, accounts) writes "Z" but drops the
  microseconds when they are 0; REST_FRAMEWORK["DATETIME_FORMAT"] is deliberately left
  alone;
- the bulk export (locations/exports.py) writes "+00:00".
"""

from __future__ import annotations

from datetime import UTC, datetime

from rest_framework import serializers

UTC_TIMESTAMP_FORMAT = "%Y-%m-%dT%H:%M:%S.%fZ"
# The same text from PostgreSQL's to_char.
SQL_UTC_TIMESTAMP_FORMAT = 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'


def utc_timestamp(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).strftime(UTC_TIMESTAMP_FORMAT)


def sql_utc_timestamp(column: str) -> str:
    """SQL text for `column` (a timestamptz expression) in UTC_TIMESTAMP_FORMAT."""
    # AT TIME ZONE 'UTC': independent of the session's TimeZone (a raw psycopg
    # connection, as the benchmark's, need not set it).
    return f"to_char({column} AT TIME ZONE 'UTC', '{SQL_UTC_TIMESTAMP_FORMAT}')"


class UtcDateTimeField(serializers.DateTimeField):
    """DRF's DateTimeField, written in UTC_TIMESTAMP_FORMAT whatever the time zone."""

    def to_representation(self, value):
        if not value:
            return None
        if isinstance(value, str):
            return value
        return utc_timestamp(value)
