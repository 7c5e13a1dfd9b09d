"""The API's JSON parser: a hostile body is a 400, never a 500."""

from rest_framework import parsers
from rest_framework.exceptions import ParseError

# No Placemap payload nests deeper than a few levels (a GeoJSON polygon is 4); this bound
# keeps deeply nested data away from code that recurses over it (rendering, copies, logs).
MAX_JSON_DEPTH = 32


def _depth_exceeds(data, limit: int) -> bool:
    # Iterative, so that checking a deep value cannot itself run out of stack.
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, dict):
            children = value.values()
        elif isinstance(value, list):
            children = value
        else:
            continue
        if depth > limit:
            return True
        stack.extend((child, depth + 1) for child in children)
    return False


def _too_deep() -> ParseError:
    return ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            data = super().parse(stream, media_type, parser_context)
        except RecursionError:
            # json's decoder recurses once per level: ~1,000 levels (2 kB) exhaust the stack.
            raise _too_deep() from None
        if _depth_exceeds(data, MAX_JSON_DEPTH):
            raise _too_deep()
        return data
