from config.params import StrictLimitOffsetPagination
from locations import constants


class OwnLocationsPagination(StrictLimitOffsetPagination):
    """GET /me/locations: a user's own list is small enough for a COUNT."""

    default_limit = constants.SEARCH_LIMIT_DEFAULT
    max_limit = constants.SEARCH_LIMIT_MAX

    def get_paginated_response(self, data):
        from rest_framework.response import Response

        return Response(
            {
                "type": "FeatureCollection",
                "count": self.count,
                "next": self.get_next_link(),
                "previous": self.get_previous_link(),
                "features": data,
            }
        )

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "properties": {
                "type": {"type": "string", "example": "FeatureCollection"},
                "count": {"type": "integer"},
                "next": {"type": "string", "nullable": True, "format": "uri"},
                "previous": {"type": "string", "nullable": True, "format": "uri"},
                "features": schema,
            },
        }
