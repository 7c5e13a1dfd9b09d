"""Query-string parameters and list paging, with the same strict rules on every endpoint.

A parameter that is sent must be valid: `?limit=0`, `?limit=1e9`, `?offset=abc` or an
empty `?status=` is a 400 naming the parameter, never silently the default (which would
answer a different question than the one asked).
"""

from rest_framework import serializers
from rest_framework.pagination import LimitOffsetPagination

# Deep OFFSET pagination costs O(offset) rows (as locations.constants.SEARCH_OFFSET_MAX);
# clients narrow the query instead.
LIST_OFFSET_MAX = 10_000


class QueryParamsSerializer(serializers.Serializer):
    """Parameters of a GET. DRF reads an empty optional parameter (`?status=`) as absent
    and applies the default; here it is refused unless the field allows blank."""

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


class StrictLimitOffsetPagination(LimitOffsetPagination):
    """limit (1..max_limit) and offset (0..max_offset), refused with a 400 when out of
    range or not an integer instead of DRF's silent default or clamp."""

    max_limit = 200
    max_offset = LIST_OFFSET_MAX

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

    def get_schema_operation_parameters(self, view):
        parameters = super().get_schema_operation_parameters(view)
        bounds = {
            self.limit_query_param: {"minimum": 1, "maximum": self.max_limit},
            self.offset_query_param: {"minimum": 0, "maximum": self.max_offset},
        }
        for parameter in parameters:
            parameter["schema"].update(bounds.get(parameter["name"], {}))
        return parameters
