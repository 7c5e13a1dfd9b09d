"""The API's JSON parser: a hostile body is a 400, never a 500."""

import re

from rest_framework import parsers
from rest_framework.exceptions import ParseError
from rest_framework.utils import json

# No Placemap payload nests deeper than a few levels (a GeoJSON polygon is 4); this bound
# keeps deeply nested data away from code that recurses over it (rendering, copies, logs).
MAX_JSON_DEPTH = 32

# A JSON string (skipped whole, so brackets inside it don't count) or one bracket. An
# unterminated string runs to the end of the body, and the repetition never backtracks:
# one pass over the body, however hostile (the decoder then reports the bad string).
_STRUCTURE = re.compile(r'"(?:[^"\\]|\\.)*+(?:"|\\?\Z)|[\[\]{}]', re.DOTALL)


def _depth_exceeds(text: str, limit: int) -> bool:
    """Whether the body nests brackets deeper than `limit`, judged before decoding.

    json's decoder recurses once per level, so a deep body must never reach it: running
    it into RecursionError is not enough, since any finaliser that runs meanwhile (a GEOS
    geometry's, through ctypes) fails on the exhausted stack too and surfaces elsewhere.
    Stops at the first bracket past the limit; malformed JSON is left to the decoder.
    """
    if text.count("[") + text.count("{") <= limit:
        return False  # every ordinary body: too few brackets to nest that deep
    depth = 0
    for match in _STRUCTURE.finditer(text):
        mark = match.group()
        if mark in ("[", "{"):
            depth += 1
            if depth > limit:
                return True
        elif mark in ("]", "}"):
            depth -= 1
    return False


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        # DRF's own charset rule: text encodings only (no bz2_codec bombs).
        encoding = parsers.get_encoding(parser_context or {})
        try:
            text = (stream.read() if stream is not None else b"").decode(encoding)
        except UnicodeDecodeError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
        if _depth_exceeds(text, MAX_JSON_DEPTH):
            raise ParseError(f"JSON parse error - nested deeper than {MAX_JSON_DEPTH} levels.")
        try:
            # DRF's own decoding: NaN and ±Infinity refused under STRICT_JSON.
            parse_constant = json.strict_constant if self.strict else None
            return json.loads(text, parse_constant=parse_constant)
        except ValueError as exc:
            raise ParseError(f"JSON parse error - {exc}") from None
