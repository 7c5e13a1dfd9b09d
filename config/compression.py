"""Compression of API bodies: Brotli or gzip, as the client's Accept-Encoding allows.

What is compressed: JSON, GeoJSON, problem+json and CSV bodies of at least
MIN_LENGTH bytes, and every streamed body of those types (the export), chunk by chunk
so the download keeps streaming. Not images or HTML, not a body already encoded, not a
304. Brotli wins over gzip at equal preference (a bit smaller for the same time, below).
Every compressible answer says `Vary: Accept-Encoding`, also when this client got it
plain, so a shared cache keeps the variants apart.

BREACH: a compressed body that holds a secret next to text the client chose leaks the
secret through its length. The token and registration answers (/api/v1/auth/) hold a
token beside the submitted username: never compressed. Other API answers carry no
secret (no CSRF token, no session id: the API's JSON never includes them).

config.http_cache asks `coding_for` before the body is compressed, to give each
encoding its own strong ETag; both must decide the same way, so the rules live here.
"""

import zlib
from collections.abc import AsyncIterator, Iterator

import brotli
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers

COMPRESSIBLE_TYPES = frozenset(
    {
        "application/json",
        "application/geo+json",
        "application/problem+json",
        "text/csv",
        # Protocol buffers of repeated keys and tag ids: gzip roughly halves a tile.
        "application/vnd.mapbox-vector-tile",
    }
)
# Below this, the headers and the codec's framing cost about what compression saves.
MIN_LENGTH = 1024
NEVER_COMPRESSED_PATHS = ("/api/v1/auth/",)
# Measured on a 77 kB viewport-like FeatureCollection (300 places, 2-core shared machine):
# gzip 6: 15.2 kB in 10 ms; Brotli 5: 14.1 kB in 12 ms; Brotli 11: 12.5 kB in 660 ms.
# Dynamic bodies use the middle levels.
BROTLI_QUALITY = 5
GZIP_LEVEL = 6
CODINGS = ("br", "gzip")


def _media_type(response: HttpResponseBase) -> str:
    return response.get("Content-Type", "").split(";")[0].strip().lower()


def compressible(request: HttpRequest, response: HttpResponseBase) -> bool:
    """Whether the answer is compressed for a client that accepts a coding."""
    if response.status_code in (204, 304) or response.has_header("Content-Encoding"):
        return False
    if _media_type(response) not in COMPRESSIBLE_TYPES:
        return False
    if request.path.startswith(NEVER_COMPRESSED_PATHS):
        return False
    if "no-transform" in response.get("Cache-Control", "").lower():
        return False
    return response.streaming or len(response.content) >= MIN_LENGTH  # type: ignore[attr-defined]


def accepted_coding(accept_encoding: str) -> str | None:
    """The preferred of br and gzip in an Accept-Encoding header, or None (q=0 refuses a
    coding; `*` stands for codings not named)."""
    weights: dict[str, float] = {}
    for part in accept_encoding.split(","):
        name, *params = (piece.strip() for piece in part.split(";"))
        quality = 1.0
        for param in params:
            key, _, value = param.partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name:
            weights[name.lower()] = quality
    best, best_quality = None, 0.0
    for coding in CODINGS:
        quality = weights.get(coding, weights.get("*", 0.0))
        if quality > best_quality:
            best, best_quality = coding, quality
    return best


def coding_for(request: HttpRequest, response: HttpResponseBase) -> str | None:
    """The content coding this answer is sent with: "br", "gzip" or None."""
    if not compressible(request, response):
        return None
    return accepted_coding(request.META.get("HTTP_ACCEPT_ENCODING", ""))


class _Encoder:
    def __init__(self, coding: str):
        if coding == "br":
            self._brotli = brotli.Compressor(quality=BROTLI_QUALITY)
        else:
            self._gzip = zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
        self.coding = coding

    def chunk(self, data: bytes) -> bytes:
        """`data` compressed and flushed, so a streamed chunk leaves at once."""
        if self.coding == "br":
            return self._brotli.process(data) + self._brotli.flush()
        return self._gzip.compress(data) + self._gzip.flush(zlib.Z_SYNC_FLUSH)

    def finish(self) -> bytes:
        if self.coding == "br":
            return self._brotli.finish()
        return self._gzip.flush(zlib.Z_FINISH)


def compress(data: bytes, coding: str) -> bytes:
    if coding == "br":
        return brotli.compress(data, quality=BROTLI_QUALITY)
    return zlib.compress(data, GZIP_LEVEL, wbits=16 + zlib.MAX_WBITS)


def _compressed_stream(chunks: Iterator[bytes], coding: str) -> Iterator[bytes]:
    encoder = _Encoder(coding)
    for data in chunks:
        if data:
            yield encoder.chunk(data)
    yield encoder.finish()


async def _acompressed_stream(chunks: AsyncIterator[bytes], coding: str) -> AsyncIterator[bytes]:
    encoder = _Encoder(coding)
    async for data in chunks:
        if data:
            yield encoder.chunk(data)
    yield encoder.finish()


class CompressionMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not compressible(request, response):
            return response
        patch_vary_headers(response, ("Accept-Encoding",))
        coding = accepted_coding(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        if coding is None:
            return response
        if response.streaming:
            content = response.streaming_content
            if response.is_async:
                response.streaming_content = _acompressed_stream(content, coding)
            else:
                response.streaming_content = _compressed_stream(content, coding)
            del response["Content-Length"]
        else:
            response.content = compress(response.content, coding)
            response["Content-Length"] = str(len(response.content))
        response["Content-Encoding"] = coding
        return response
