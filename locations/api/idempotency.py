"""Idempotency-Key for POST /locations: mobile clients retry on bad networks, and a
retry must not submit the place twice.

The first request with a key claims it in Redis (SET NX), runs, and stores its response
for PLACES_IDEMPOTENCY_TTL_SECONDS. A retry with the same key and the same body gets
that response again (`Idempotent-Replayed: true`) without a second row; the same key
with a different body is 422; a retry while the first is still running is 409.
Keys are per user. A failed request (4xx/5xx) releases its key so it can be retried.
"""

import contextlib
import hashlib
import json
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from redis.exceptions import RedisError
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from config.exceptions import Conflict, ServiceUnavailable, UnprocessableEntity
from locations import constants

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
# A submission finishes in well under this; a crashed worker's claim expires after it.
IN_FLIGHT_SECONDS = 60


class KeyInFlight(Conflict):
    default_detail = "A request with this Idempotency-Key is still being processed."
    default_code = "idempotency_key_in_flight"
    retry_after = 1


class KeyReused(UnprocessableEntity):
    default_detail = "This Idempotency-Key was already used with a different request body."
    default_code = "idempotency_key_reused"


def _fingerprint(data) -> str:
    canonical = json.dumps(data, sort_keys=True, separators=(",", ":"), default=str)
    return hashlib.sha256(canonical.encode()).hexdigest()


def _parse_key(raw: str) -> str:
    if not raw or len(raw) > constants.IDEMPOTENCY_KEY_MAX_LENGTH or not raw.isprintable():
        raise ValidationError(
            {
                HEADER: [
                    f"Use 1-{constants.IDEMPOTENCY_KEY_MAX_LENGTH} printable characters "
                    "(a UUID is a good key)."
                ]
            }
        )
    return raw


def _replay_or_refuse(record: dict, fingerprint: str) -> Response:
    if record["fingerprint"] != fingerprint:
        raise KeyReused()
    if record["state"] != "done":
        raise KeyInFlight()
    return Response(record["body"], status=record["status"], headers={REPLAYED_HEADER: "true"})


def idempotent(request, *, scope: str, produce: Callable[[], Response]) -> Response:
    """Run `produce` at most once per (user, Idempotency-Key); see the module docstring."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return produce()
    key = _parse_key(raw)
    fingerprint = _fingerprint(request.data)
    digest = hashlib.sha256(key.encode()).hexdigest()
    cache_key = f"places:idempotency:{scope}:{request.user.pk}:{digest}"
    claim = {"fingerprint": fingerprint, "state": "running"}
    try:
        if not cache.add(cache_key, claim, timeout=IN_FLIGHT_SECONDS):
            record = cache.get(cache_key)
            if record is not None:
                return _replay_or_refuse(record, fingerprint)
            # Expired between the two calls: claim it now.
            if not cache.add(cache_key, claim, timeout=IN_FLIGHT_SECONDS):
                raise KeyInFlight()
    except RedisError:
        # Without the store a retry could create a duplicate; say so rather than guess.
        raise ServiceUnavailable(
            "Idempotency-Key cannot be honoured right now; retry shortly.",
            retry_after=settings.PLACES_RETRY_AFTER_SECONDS,
        ) from None

    try:
        response = produce()
    except BaseException:
        _release(cache_key)
        raise
    if 200 <= response.status_code < 300:
        record = {
            "fingerprint": fingerprint,
            "state": "done",
            "status": response.status_code,
            "body": response.data,
        }
        # The place exists; failing the request now would invite the duplicate the key
        # is meant to prevent. If Redis fails here the claim expires and a late retry may
        # duplicate.
        with contextlib.suppress(RedisError):
            cache.set(cache_key, record, timeout=settings.PLACES_IDEMPOTENCY_TTL_SECONDS)
    else:
        _release(cache_key)
    return response


def _release(cache_key: str) -> None:
    # If Redis fails here the claim expires after IN_FLIGHT_SECONDS anyway.
    with contextlib.suppress(RedisError):
        cache.delete(cache_key)
