"""Stale-cache fallback for the public list reads.

Every successful search/viewport answer is kept in Redis under a key made of its
normalized parameters. When Postgres cancels the statement (statement timeout) or
cannot be reached, the last answer to the same question is served, marked with
`X-Cache-Stale: true` and its `Age`; without one the read's MapUnavailable stands (503
with Retry-After, from the problem handler). Never a 500.
"""

import hashlib
import json
import logging
import time
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.http import HttpResponse
from redis.exceptions import RedisError

from config.http_cache import STALE_HEADER
from config.renderers import GEOJSON_MEDIA_TYPE
from locations.errors import MapUnavailable
from locations.geo import BBox

logger = logging.getLogger(__name__)

GEOJSON_CONTENT_TYPE = GEOJSON_MEDIA_TYPE
# Bump when the shape of the answers or of the stored copies changes, so old entries
# are never served.
CACHE_VERSION = "v3"


def _canonical(value) -> object:
    # A bbox as its four numbers: the same key its (min_lon, ..., max_lat) tuple had.
    return value.as_list() if isinstance(value, BBox) else str(value)


def answer_cache_key(kind: str, params: dict) -> str:
    """Normalized: validated values (canonical types, sorted keys), not the raw query
    string, so `?lat=1.0&lon=2` and `?lon=2&lat=1` share an entry."""
    canonical = json.dumps(params, sort_keys=True, separators=(",", ":"), default=_canonical)
    digest = hashlib.sha256(canonical.encode()).hexdigest()
    return f"places:answer:{CACHE_VERSION}:{kind}:{digest}"


# A copy is refreshed at most this often per question: writing a 30-130 kB answer to
# Redis on every request cost ~3.6 ms of a 40 ms radius request (docs/benchmarks.md),
# while a fallback that is up to this much older serves the same purpose.
REFRESH_SECONDS = 30


def _remember(key: str, body: str) -> None:
    if settings.PLACES_STALE_CACHE_SECONDS == 0:
        return
    try:
        # SET NX of a tiny marker: only the first answer in each window is copied.
        if not cache.add(f"{key}:fresh", 1, timeout=REFRESH_SECONDS):
            return
        cache.set(key, (time.time(), body), timeout=settings.PLACES_STALE_CACHE_SECONDS)
    except RedisError:
        # The fallback copy is an optimisation: a Redis hiccup must not fail a good read.
        logger.warning("Could not store a fallback copy of a places answer", exc_info=True)


def _recall(key: str) -> tuple[float, str] | None:
    try:
        return cache.get(key)
    except RedisError:
        logger.warning("Redis is unavailable too; no fallback answer", exc_info=True)
        return None


def geojson_response(body: str, *, stored_at: float | None = None) -> HttpResponse:
    """A GeoJSON answer; `stored_at` marks a stale copy (X-Cache-Stale, and Age in
    seconds as RFC 9111 defines it), which config.http_cache never lets a cache keep."""
    response = HttpResponse(body, content_type=GEOJSON_CONTENT_TYPE)
    if stored_at is not None:
        response[STALE_HEADER] = "true"
        response["Age"] = str(max(0, int(time.time() - stored_at)))
    return response


def serve_with_fallback(*, kind: str, params: dict, read: Callable[[], str]) -> HttpResponse:
    key = answer_cache_key(kind, params)
    try:
        body = read()
    except MapUnavailable:
        logger.warning("Places %s read failed; trying the fallback cache", kind, exc_info=True)
        cached = _recall(key)
        if cached is None:
            raise
        stored_at, body = cached
        return geojson_response(body, stored_at=stored_at)
    _remember(key, body)
    return geojson_response(body)
