"""Idempotency-Key for POST /locations: mobile clients retry on bad networks, and a
retry must not submit the place twice.

The key and the response it got are a row of locations.IdempotencyKey, written in the
transaction that creates the place: the key exists exactly when the place does, so a
retry after any crash (Redis emptied, web process killed, PostgreSQL restarted) replays
the first response. A retry with the same key and the same body gets that response again
(`Idempotent-Replayed: true`) without a second row; the same key with a different body
is 422; a retry while the first is still running is 409 (a transaction-scoped advisory
lock per key; the unique index is the backstop). Keys are per user and kept for
PLACES_IDEMPOTENCY_TTL_SECONDS. A failed request (4xx/5xx) stores nothing, so it can be
retried.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.utils import timezone
from rest_framework.exceptions import ValidationError
from rest_framework.renderers import JSONRenderer
from rest_framework.response import Response

from config.errors import ConflictError, UnprocessableError
from locations import constants
from locations.models import IdempotencyKey

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"


class KeyInFlight(ConflictError):
    code = "idempotency_key_in_flight"
    default_detail = "A request with this Idempotency-Key is still being processed."
    retry_after = 1


class KeyReused(UnprocessableError):
    code = "idempotency_key_reused"
    default_detail = "This Idempotency-Key was already used with a different request body."


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


def _lock_id(*, user_id, scope: str, digest: str) -> int:
    """The key's advisory lock: 64 bits of a hash (a collision only costs a 409)."""
    seed = hashlib.sha256(f"{scope}:{user_id}:{digest}".encode()).digest()
    return int.from_bytes(seed[:8], "big", signed=True)


def _try_lock(lock_id: int) -> bool:
    """Take the key's lock for this transaction without waiting: a concurrent request
    with the same key is 409 at once rather than holding a connection."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [lock_id])
        return cursor.fetchone()[0]


def _expired_before():
    return timezone.now() - timedelta(seconds=settings.PLACES_IDEMPOTENCY_TTL_SECONDS)


def idempotent(request, *, scope: str, produce: Callable[[], Response]) -> Response:
    """Run `produce` at most once per (user, Idempotency-Key); see the module docstring."""
    raw = request.headers.get(HEADER)
    if raw is None:
        return produce()
    key = _parse_key(raw)
    fingerprint = _fingerprint(request.data)
    digest = hashlib.sha256(key.encode()).hexdigest()
    mine = {"submitter": request.user, "scope": scope, "key_digest": digest}
    with transaction.atomic():
        if not _try_lock(_lock_id(user_id=request.user.pk, scope=scope, digest=digest)):
            raise KeyInFlight()
        record = IdempotencyKey.objects.filter(**mine).first()
        if record is not None and record.created_at < _expired_before():
            record.delete()  # expired, not yet purged: the key is free again
            record = None
        if record is not None:
            if record.fingerprint != fingerprint:
                raise KeyReused()
            return Response(
                record.response_body,
                status=record.response_status,
                headers={REPLAYED_HEADER: "true"},
            )
        response = produce()
        if not 200 <= response.status_code < 300:
            transaction.set_rollback(True)
            return response
        try:
            IdempotencyKey.objects.create(
                **mine,
                fingerprint=fingerprint,
                response_status=response.status_code,
                # Stored as the client received it (DRF's JSON of UUIDs, dates...).
                response_body=json.loads(JSONRenderer().render(response.data)),
            )
        except IntegrityError:
            # Only if the advisory lock was bypassed; the place is rolled back with it.
            raise KeyInFlight() from None
    return response


def purge_expired() -> int:
    """Delete keys older than PLACES_IDEMPOTENCY_TTL_SECONDS (locations.tasks)."""
    deleted, _ = IdempotencyKey.objects.filter(created_at__lt=_expired_before()).delete()
    return deleted
