"""Query-string parameters and list paging, with the same strict rules on every endpoint.

A parameter that is sent must be valid: `?limit=0`, `?limit=1e9`, `?offset=abc` or an
empty `?status=` is a 400 naming the parameter, never silently the default (which would
answer a different question than the one asked).

Every paginated list has one envelope (`count`, `next`, `previous`, `limit`, then
`results`, or `features` in a FeatureCollection) and the same links in an RFC 8288
`Link` header. `next`/`previous` carry an opaque `cursor`: a keyset position (the sort
key of the page's last or first row), so page 500 costs what page 1 does. `offset`
still works for v1 clients, up to LIST_OFFSET_MAX. docs/api-versioning.md, "Pagination".
"""

import base64
import binascii
import copy
import functools
import json
import operator
from collections.abc import Sequence
from datetime import UTC, datetime
from uuid import UUID

from django.core.exceptions import FieldDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.response import Response
from rest_framework.utils.urls import remove_query_param, replace_query_param

# Deep OFFSET pagination costs O(offset) rows (as locations.constants.SEARCH_OFFSET_MAX);
# clients narrow the query instead.
LIST_OFFSET_MAX = 10_000


class QueryParamsSerializer(serializers.Serializer):
    """Parameters of a GET. DRF reads an empty optional parameter (`?status=`) as absent
    and applies the default; here it is refused unless the field allows blank."""

    def get_fields(self):
        # DRF deep-copies every declared field for every serializer, which builds each
        # field again (its __init__, validators, error messages): 0.1-0.3 ms of Python per
        # read request, more than the rest of the validation (py-spy under load,
        # docs/benchmarks.md "Lean path, per-request cost"). A query parameter's field
        # keeps no state while it validates, so a shallow copy of each, bound to this
        # serializer, does the same. A field with a child (ListField) or a nested
        # serializer is still deep-copied: its child is bound to it.
        return {
            name: copy.deepcopy(field)
            if hasattr(field, "child") or isinstance(field, serializers.BaseSerializer)
            else copy.copy(field)
            for name, field in self._declared_fields.items()
        }

    def to_internal_value(self, data):
        if hasattr(data, "getlist"):
            empty = {
                name: ["This parameter may not be empty."]
                for name, field in self.fields.items()
                if name in data
                and not getattr(field, "allow_blank", False)
                and all(value == "" for value in data.getlist(name))
            }
            if empty:
                raise serializers.ValidationError(empty)
        return super().to_internal_value(data)


# --- Cursors ----------------------------------------------------------------------------
CURSOR_PARAM = "cursor"
# A cursor holds a few sort-key values; anything longer is not one of ours.
CURSOR_MAX_LENGTH = 500


def cursor_encode(position: dict) -> str:
    """An opaque cursor: URL-safe base64 of the position's JSON, without padding."""
    raw = json.dumps(position, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii")


def cursor_decode(text: str) -> dict:
    """The position inside a cursor; ValueError when it is not one."""
    try:
        raw = base64.urlsafe_b64decode((text + "=" * (-len(text) % 4)).encode("ascii"))
        position = json.loads(raw)
    except (binascii.Error, UnicodeError, ValueError) as exc:
        raise ValueError("not a cursor") from exc
    if not isinstance(position, dict):
        raise ValueError("not a cursor")
    return position


class CursorField(serializers.CharField):
    """`cursor`: a position from a list's `next` or `previous` link, decoded."""

    default_error_messages = {
        "cursor": "Not a cursor of this list; follow the next or previous link as given."
    }

    def __init__(self, **kwargs):
        kwargs.setdefault("required", False)
        kwargs.setdefault(
            "help_text",
            "An opaque position, from the `next` or `previous` link of a page of this list.",
        )
        super().__init__(max_length=CURSOR_MAX_LENGTH, **kwargs)

    def to_internal_value(self, data):
        try:
            return cursor_decode(super().to_internal_value(data))
        except ValueError:
            self.fail("cursor")


def link_header(*, next_url: str | None, previous_url: str | None) -> str | None:
    """RFC 8288 `Link` header value of a page's neighbours, or None without any."""
    links = [
        f'<{url}>; rel="{relation}"'
        for url, relation in ((next_url, "next"), (previous_url, "prev"))
        if url
    ]
    return ", ".join(links) or None


def page_link(request, **params: str | int | None) -> str:
    """This request's absolute URL with `params` set (None removes one)."""
    url = request.build_absolute_uri()
    for name, value in params.items():
        url = (
            remove_query_param(url, name)
            if value is None
            else replace_query_param(url, name, value)
        )
    return url


class _PageParams(QueryParamsSerializer):
    def __init__(self, *args, pagination: "StrictLimitOffsetPagination", **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["limit"] = serializers.IntegerField(
            required=False,
            min_value=1,
            max_value=pagination.max_limit,
            default=pagination.default_limit,
        )
        self.fields["offset"] = serializers.IntegerField(
            required=False, min_value=0, max_value=pagination.max_offset, default=0
        )
        self.fields[CURSOR_PARAM] = CursorField()

    def validate(self, attrs):
        if CURSOR_PARAM in attrs and "offset" in self.initial_data:
            raise serializers.ValidationError({CURSOR_PARAM: ["Send cursor or offset, not both."]})
        return attrs


def _json_value(value):
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, UUID):
        return str(value)
    return value


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """The one paginator of every list: limit (1..max_limit), then either offset
    (0..max_offset, v1) or a keyset `cursor`, all refused with a 400 when invalid instead
    of DRF's silent default or clamp. The queryset's ordering is the keyset; it must
    name plain columns and is made total with the primary key."""

    max_limit = 200
    max_offset = LIST_OFFSET_MAX
    # The list's members: "results", or "features" in a FeatureCollection.
    results_key = "results"
    # A COUNT of the whole list in `count` (null when False: only where it is cheap).
    counted = True

    def _page_params(self, request) -> dict:
        cached = getattr(request, "_placemap_page_params", None)
        if cached is not None:
            return cached
        params = _PageParams(data=request.query_params, pagination=self)
        params.is_valid(raise_exception=True)
        request._placemap_page_params = params.validated_data
        return params.validated_data

    def get_limit(self, request):
        return self._page_params(request)["limit"]

    def get_offset(self, request):
        return self._page_params(request)["offset"]

    # --- Paging -------------------------------------------------------------------------

    def paginate_queryset(self, queryset, request, view=None):
        params = self._page_params(request)
        self.request = request
        self.limit = params["limit"]
        self.offset = params["offset"]
        self.ordering = self._keyset(queryset)
        self.count = self.get_count(queryset) if self.counted else None
        cursor = params.get(CURSOR_PARAM)
        self.next_url = self.previous_url = None
        if cursor is None:
            rows = list(queryset[self.offset : self.offset + self.limit + 1])
            page = rows[: self.limit]
            more_after, more_before = len(rows) > self.limit, self.offset > 0
            if (not page and self.offset > 0) or (more_before and self.ordering is None):
                self.previous_url = self._offset_link(max(0, self.offset - self.limit))
            if more_after and self.ordering is None:
                self.next_url = self._offset_link(self.offset + self.limit)
        else:
            if self.ordering is None:
                raise _invalid_cursor()
            backwards = cursor.get("d") == "prev"
            keyset = queryset.filter(self._beyond(self._cursor_key(cursor), backwards=backwards))
            if backwards:
                rows = list(keyset.reverse()[: self.limit + 1])
                page = rows[: self.limit][::-1]
                more_after, more_before = True, len(rows) > self.limit
            else:
                rows = list(keyset[: self.limit + 1])
                page = rows[: self.limit]
                more_after, more_before = len(rows) > self.limit, True
        if self.ordering is not None and page and more_after:
            self.next_url = self._cursor_link(page[-1], "next")
        if self.ordering is not None and page and more_before:
            self.previous_url = self._cursor_link(page[0], "prev")
        return page

    def _keyset(self, queryset) -> list[tuple[str, bool]] | None:
        """(column, descending) pairs of the queryset's ordering, ending with the pk; None
        when it cannot be a keyset (not a queryset, no ordering, an expression, a
        relation's or a nullable column): such a list pages by offset alone, its links
        offsets up to max_offset."""
        if not isinstance(queryset, QuerySet):
            return None
        meta = queryset.model._meta
        names = list(queryset.query.order_by or meta.ordering)
        keyset = []
        for name in names:
            if not isinstance(name, str) or name == "?":
                return None
            descending, column = name.startswith("-"), name.lstrip("-")
            column = meta.pk.name if column == "pk" else column
            try:
                field = meta.get_field(column)
            except FieldDoesNotExist:
                return None
            if not field.concrete or field.null or field.is_relation:
                return None
            keyset.append((column, descending))
        if not keyset:
            return None
        if keyset[-1][0] != meta.pk.name:
            keyset.append((meta.pk.name, keyset[-1][1]))
        self._model_meta = meta
        return keyset

    def _offset_link(self, offset: int) -> str | None:
        if offset > self.max_offset:
            return None
        return page_link(self.request, **{CURSOR_PARAM: None}, offset=offset, limit=self.limit)

    def _signature(self) -> str:
        return ",".join(
            ("-" if descending else "") + column for column, descending in self.ordering
        )

    def _cursor_link(self, row, direction: str) -> str:
        key = [_json_value(getattr(row, column)) for column, _ in self.ordering]
        cursor = cursor_encode({"o": self._signature(), "k": key, "d": direction})
        return page_link(self.request, offset=None, limit=self.limit, **{CURSOR_PARAM: cursor})

    def _cursor_key(self, cursor: dict) -> list:
        key = cursor.get("k")
        if (
            cursor.get("o") != self._signature()
            or cursor.get("d") not in ("next", "prev")
            or not isinstance(key, list)
            or len(key) != len(self.ordering)
        ):
            raise _invalid_cursor()
        if not all(
            # Only what _json_value writes; PostgreSQL refuses NUL in text (a 500 otherwise).
            (type(value) in (int, float) or (type(value) is str and "\x00" not in value))
            for value in key
        ):
            raise _invalid_cursor()
        meta = self._model_meta
        try:
            values = [
                meta.get_field(column).to_python(value)
                for (column, _), value in zip(self.ordering, key, strict=True)
            ]
        except (DjangoValidationError, TypeError, ValueError):
            raise _invalid_cursor() from None
        # A naive time (a hand-made cursor: ours carry an offset) is read as UTC.
        return [
            timezone.make_aware(value, UTC)
            if isinstance(value, datetime) and timezone.is_naive(value)
            else value
            for value in values
        ]

    def _beyond(self, key: Sequence, *, backwards: bool) -> Q:
        """Rows after `key` in the ordering (before it when `backwards`): for (a, b),
        `a >= ka AND (a > ka OR (a = ka AND b > kb))`; the redundant first term lets an
        index on the leading column bound the scan."""
        parts = []
        for index, (column, descending) in enumerate(self.ordering):
            lookup = "lt" if descending != backwards else "gt"
            equal = {
                name: value
                for (name, _), value in zip(self.ordering[:index], key[:index], strict=True)
            }
            parts.append(Q(**equal, **{f"{column}__{lookup}": key[index]}))
        column, descending = self.ordering[0]
        bound = Q(**{f"{column}__{'lte' if descending != backwards else 'gte'}": key[0]})
        return bound & functools.reduce(operator.or_, parts)

    # --- Rendering ----------------------------------------------------------------------

    def get_next_link(self):
        return self.next_url

    def get_previous_link(self):
        return self.previous_url

    def envelope(self, items) -> dict:
        return {
            "count": self.count,
            "next": self.next_url,
            "previous": self.previous_url,
            "limit": self.limit,
            self.results_key: items,
        }

    def get_paginated_response(self, data):
        link = link_header(next_url=self.next_url, previous_url=self.previous_url)
        return Response(self.envelope(data), headers={"Link": link} if link else None)

    def get_paginated_response_schema(self, schema):
        return paginated_schema(schema, results_key=self.results_key)

    def get_schema_operation_parameters(self, view):
        return [
            {
                "name": self.limit_query_param,
                "required": False,
                "in": "query",
                "description": "Items per page.",
                "schema": {"type": "integer", "minimum": 1, "maximum": self.max_limit},
            },
            {
                "name": CURSOR_PARAM,
                "required": False,
                "in": "query",
                "description": "An opaque position from the `next` or `previous` link of "
                "a page (keyset: any depth at the cost of the first page). Not with `offset`.",
                "schema": {"type": "string", "maxLength": CURSOR_MAX_LENGTH},
            },
            {
                "name": self.offset_query_param,
                "required": False,
                "in": "query",
                "description": "Items to skip (v1; at most "
                f"{self.max_offset}). Prefer the `next` link's cursor.",
                "schema": {"type": "integer", "minimum": 0, "maximum": self.max_offset},
            },
        ]


def _invalid_cursor() -> serializers.ValidationError:
    return serializers.ValidationError(
        {CURSOR_PARAM: [CursorField.default_error_messages["cursor"]]}
    )


class FeatureCollectionPagination(StrictLimitOffsetPagination):
    """The same pages as a GeoJSON FeatureCollection: the envelope's members beside
    `type` and `features`."""

    results_key = "features"

    def envelope(self, items) -> dict:
        return {"type": "FeatureCollection", **super().envelope(items)}

    def get_paginated_response_schema(self, schema):
        envelope = paginated_schema(schema, results_key=self.results_key)
        envelope["properties"] = {
            "type": {"type": "string", "enum": ["FeatureCollection"]},
            **envelope["properties"],
        }
        envelope["required"] = ["type", *envelope["required"]]
        return envelope


def paginated_schema(items: dict, *, results_key: str = "results") -> dict:
    """The OpenAPI schema of a page: the envelope every list shares, `items` in
    `results_key`."""
    return {
        "type": "object",
        "required": ["count", "next", "previous", "limit", results_key],
        "properties": {
            "count": {
                "type": "integer",
                "nullable": True,
                "minimum": 0,
                "description": "Items in the whole list; null where counting would cost "
                "a scan (search).",
            },
            "next": {
                "type": "string",
                "format": "uri",
                "nullable": True,
                "description": 'The next page (also `Link: <...>; rel="next"`); null on '
                "the last one.",
            },
            "previous": {
                "type": "string",
                "format": "uri",
                "nullable": True,
                "description": 'The previous page (also `rel="prev"`); null on the first.',
            },
            "limit": {"type": "integer", "minimum": 1, "description": "Items per page."},
            results_key: items,
        },
    }
