"""The one client for every S3 call Placemap makes.

Every call that goes over the network passes through `execute()`, which stacks, from the
outside in:

1. a circuit breaker (pybreaker) whose state lives in Redis (the cache's: CACHE_REDIS_URL,
   state that may be lost), so every web and worker process agrees that storage is down and fails at once (StorageUnavailable) instead of
   each one paying its own timeouts;
2. retries (tenacity) with exponential backoff and full jitter, for transient errors
   only: connection failures and timeouts, 5xx answers and throttling. A 4xx answer is a
   bug or a missing object, never retried and never counted by the breaker;
3. a boto3 client with connect/read timeouts and botocore's own retries switched off
   (tenacity owns them, so the two do not multiply).

A call, retries included, gives up after about STORAGE_REQUEST_DEADLINE seconds: each
attempt's connect and read timeouts are capped at what is left of the deadline, and no
attempt starts with less than MIN_ATTEMPT_SECONDS left. A stalled endpoint so costs an
upload one deadline, not three read timeouts, and the breaker sees its failures at that
pace. A missing bucket is storage being unavailable (misconfigured or not yet created),
not a bug in the request: it is counted by the breaker and answered 503 like an outage.

Presigning is local computation (no network): it does not go through the breaker, so
photo URLs keep being served while storage is down. URLs are signed at the start of the
current STORAGE_URL_WINDOW_SECONDS window (WindowedQueryAuth), so one photo keeps one URL
for that long in every process: browsers and CDNs cache it, and a place's JSON and ETag
do not change every second.

PlacemapS3Storage is the same client behind Django's storage API (django-storages'
S3Storage): the Image model's FileField, the admin and the GDPR export use it through
image_storage(). Its operations are the functions below, so they keep the breaker, the
retries and the deadline, and read the settings on every call.
"""

from __future__ import annotations

import logging
import mimetypes
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar

import boto3
import botocore.auth
import pybreaker
import redis
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, HTTPClientError
from botocore.exceptions import ConnectionError as BotoConnectionError
from botocore.handlers import add_expect_header
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import InvalidStorageError, storages
from opentelemetry import trace
from redis.backoff import NoBackoff
from redis.retry import Retry
from storages.backends.s3 import S3Storage
from storages.utils import clean_name
from tenacity import (
    RetryCallState,
    Retrying,
    retry_if_exception,
    stop_after_attempt,
    wait_random_exponential,
)

from config.breakers import ConcurrentCircuitBreaker
from config.errors import DependencyUnavailable, NotFoundError

logger = logging.getLogger(__name__)
tracer = trace.get_tracer(__name__)

T = TypeVar("T")

# S3/MinIO error codes that mean "slow down", whatever the HTTP status they come with.
THROTTLING_CODES = frozenset(
    {"SlowDown", "Throttling", "ThrottlingException", "RequestLimitExceeded", "TooManyRequests"}
)
NOT_FOUND_CODES = frozenset({"NoSuchKey", "404", "NotFound"})
# The bucket itself is missing: storage is unusable until an operator creates it.
MISSING_BUCKET_CODES = frozenset({"NoSuchBucket"})
# Retry-After when storage failed but the breaker is not (yet) open.
DEFAULT_RETRY_AFTER = 5


class StorageError(Exception):
    """Base of the errors this module raises."""


class StorageUnavailable(StorageError, DependencyUnavailable):
    """Storage is down (breaker open, or transient failures outlasted the retries).
    `retry_after` is how many seconds until a new attempt makes sense. Clients read the
    problem detail; `str(exc)` says what failed, for logs and /ready."""

    default_detail = "Photo storage is unavailable; retry later."

    def __init__(self, message: str = "", *, retry_after: int = DEFAULT_RETRY_AFTER):
        super().__init__(retry_after=retry_after)
        self.message = message or self.detail

    def __str__(self) -> str:
        return self.message


class StorageObjectNotFound(StorageError, NotFoundError, FileNotFoundError):
    """No object under this key. Also a FileNotFoundError, as Django's storage API
    callers (FieldFile.open) expect."""

    def __init__(self, operation: str = ""):
        super().__init__()
        self.operation = operation


# --- Classifying errors ---------------------------------------------------------------


def _client_error_status(exc: ClientError) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0)


def _is_missing_bucket(exc: BaseException) -> bool:
    return (
        isinstance(exc, ClientError)
        and exc.response.get("Error", {}).get("Code", "") in MISSING_BUCKET_CODES
    )


def is_storage_failure(exc: BaseException) -> bool:
    """Storage is unhealthy: counted by the breaker, answered as StorageUnavailable."""
    return is_transient(exc) or _is_missing_bucket(exc)


def is_transient(exc: BaseException) -> bool:
    """Worth retrying, and a sign that storage is unhealthy (counted by the breaker)."""
    if isinstance(exc, BotoConnectionError | HTTPClientError):
        # Connection refused/reset, DNS, connect and read timeouts.
        return True
    if isinstance(exc, ClientError):
        code = exc.response.get("Error", {}).get("Code", "")
        status = _client_error_status(exc)
        return status >= 500 or status == 429 or code in THROTTLING_CODES
    return False


# --- Clients ----------------------------------------------------------------------------

_client_lock = threading.Lock()


class WindowedQueryAuth(botocore.auth.S3SigV4QueryAuth):
    """botocore's S3 presigned-URL signer (SigV4 in the query string), signing at the
    start of the current STORAGE_URL_WINDOW_SECONDS window instead of this second: the
    same key gives the same URL in every process for the whole window. The callers add
    the window to the expiry (_presign), so a URL handed out at any moment of its window
    still lives STORAGE_URL_EXPIRY_SECONDS. A window of 0 signs at this second."""

    def _modify_request_before_signing(self, request):
        # add_auth has just set the signing time from botocore.auth.get_current_datetime();
        # everything signed after this point (X-Amz-Date, the scope's date, the string to
        # sign) reads it from here.
        window = settings.STORAGE_URL_WINDOW_SECONDS
        if window:
            now = botocore.auth.get_current_datetime()
            seconds = int(now.replace(tzinfo=UTC).timestamp())
            start = datetime.fromtimestamp(seconds - seconds % window, UTC)
            request.context["timestamp"] = start.strftime(botocore.auth.SIGV4_TIMESTAMP)
        super()._modify_request_before_signing(request)


# Signature versions of the public (presigning) client: botocore picks a signer class by
# name, appending "-query" for a presigned URL.
WINDOWED_SIGNATURE_VERSION = "placemap-s3v4"
botocore.auth.AUTH_TYPE_MAPS.setdefault(WINDOWED_SIGNATURE_VERSION, botocore.auth.S3SigV4Auth)
botocore.auth.AUTH_TYPE_MAPS.setdefault(f"{WINDOWED_SIGNATURE_VERSION}-query", WindowedQueryAuth)


@lru_cache(maxsize=32)
def _client_for(
    endpoint: str,
    region: str,
    key: str,
    connect: float,
    read: float,
    signature_version: str = "s3v4",
):
    # boto3's default session is not thread-safe while it builds a client.
    with _client_lock:
        client = boto3.client(
            "s3",
            endpoint_url=endpoint or None,
            region_name=region,
            aws_access_key_id=key,
            aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
            config=Config(
                signature_version=signature_version,
                s3={"addressing_style": "path"},
                connect_timeout=connect,
                read_timeout=read,
                # tenacity retries; botocore retrying too would multiply the attempts.
                # (total_max_attempts counts the first try; max_attempts would not.)
                retries={"total_max_attempts": 1, "mode": "standard"},
            ),
        )
    # botocore sends PUT bodies after "Expect: 100-continue" and waits up to a fixed 1 s
    # for the server's go-ahead: against a stalled server that second comes on top of the
    # read timeout, on every attempt. Our objects are small (at most a few MB), so send
    # them straight away and let the timeouts alone bound the call.
    client.meta.events.unregister("before-call.s3", add_expect_header)
    return client


# The shortest attempt worth starting; also the step in which an attempt's timeouts
# shrink towards the deadline (so a handful of clients serve every budget).
MIN_ATTEMPT_SECONDS = 0.5


def s3_client(*, budget: float | None = None):
    """The raw client. Prefer execute() or the helpers below: they add retries, the
    breaker and the deadline. Raw use is for local work (presigning) and operator set-up
    (ensure_bucket). `budget` caps its connect and read timeouts (seconds)."""
    if budget is None:
        budget = settings.STORAGE_REQUEST_DEADLINE
    budget = max(MIN_ATTEMPT_SECONDS, budget // MIN_ATTEMPT_SECONDS * MIN_ATTEMPT_SECONDS)
    return _client_for(
        settings.AWS_S3_ENDPOINT_URL,
        settings.AWS_S3_REGION_NAME,
        settings.AWS_ACCESS_KEY_ID,
        min(settings.STORAGE_CONNECT_TIMEOUT, budget),
        min(settings.STORAGE_READ_TIMEOUT, budget),
    )


def public_client():
    """Signs URLs for the host clients reach (SigV4 signs the host, so the client
    that presigns must use the public endpoint, not the internal one), at the start of
    the current window (WindowedQueryAuth)."""
    return _client_for(
        settings.STORAGE_PUBLIC_ENDPOINT_URL or settings.AWS_S3_ENDPOINT_URL,
        settings.AWS_S3_REGION_NAME,
        settings.AWS_ACCESS_KEY_ID,
        settings.STORAGE_CONNECT_TIMEOUT,
        settings.STORAGE_READ_TIMEOUT,
        WINDOWED_SIGNATURE_VERSION,
    )


def bucket_name() -> str:
    return settings.AWS_STORAGE_BUCKET_NAME


# --- Circuit breaker ------------------------------------------------------------------


def _not_a_storage_failure(exc: BaseException) -> bool:
    return not is_storage_failure(exc)


def _breaker_redis() -> redis.Redis:
    timeout = settings.STORAGE_BREAKER_REDIS_TIMEOUT
    return redis.Redis.from_url(
        settings.CACHE_REDIS_URL, socket_connect_timeout=timeout, socket_timeout=timeout
    )


@lru_cache(maxsize=4)
def _redis_breaker(
    redis_url: str, namespace: str, fail_max: int, reset_timeout: int
) -> ConcurrentCircuitBreaker:
    storage = pybreaker.CircuitRedisStorage(
        pybreaker.STATE_CLOSED, _breaker_redis(), namespace=namespace
    )
    return ConcurrentCircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_timeout,
        exclude=[_not_a_storage_failure],
        state_storage=storage,
        name="storage",
    )


@lru_cache(maxsize=4)
def _local_breaker(fail_max: int, reset_timeout: int) -> ConcurrentCircuitBreaker:
    return ConcurrentCircuitBreaker(
        fail_max=fail_max,
        reset_timeout=reset_timeout,
        exclude=[_not_a_storage_failure],
        name="storage-local",
    )


# After failing to reach Redis, use the local breaker for this long before trying again,
# so a black-holed Redis costs one connect timeout per interval, not one per call.
REDIS_RETRY_INTERVAL = 30.0
_redis_down_until: dict[str, float] = {}


def breaker() -> ConcurrentCircuitBreaker:
    """The storage breaker, shared through Redis. If Redis cannot be reached when the
    breaker is first built, this process falls back to a private in-memory breaker (and
    tries Redis again later) rather than failing storage calls for a Redis outage.
    Once built, pybreaker's Redis storage itself treats Redis errors as "closed"."""
    redis_url = settings.CACHE_REDIS_URL
    if time.monotonic() >= _redis_down_until.get(redis_url, 0.0):
        try:
            return _redis_breaker(
                redis_url,
                settings.STORAGE_BREAKER_NAMESPACE,
                settings.STORAGE_BREAKER_FAIL_MAX,
                settings.STORAGE_BREAKER_RESET_TIMEOUT,
            )
        except redis.RedisError:
            _redis_down_until[redis_url] = time.monotonic() + REDIS_RETRY_INTERVAL
            logger.warning("Redis unreachable: storage breaker state is local to this process")
    return _local_breaker(settings.STORAGE_BREAKER_FAIL_MAX, settings.STORAGE_BREAKER_RESET_TIMEOUT)


def breaker_state() -> dict:
    """For /ready and operators: the state, failures in a row, and when it may close."""
    cb = breaker()
    state = cb.current_state
    info: dict[str, Any] = {"state": state, "failures": cb.fail_counter}
    if state == pybreaker.STATE_OPEN:
        info["retry_after"] = _seconds_until_trial(cb)
    return info


def _seconds_until_trial(cb: pybreaker.CircuitBreaker) -> int:
    opened_at = cb._state_storage.opened_at  # pybreaker exposes no public accessor
    if opened_at is None:
        return cb.reset_timeout
    remaining = (opened_at + timedelta(seconds=cb.reset_timeout)) - datetime.now(UTC)
    # Redis keeps opened_at in whole seconds: round up so clients never come back early.
    return max(1, int(remaining.total_seconds()) + 1)


def raise_if_unavailable() -> None:
    """Fail fast, before doing work whose result could not be stored anyway. An open
    breaker whose reset_timeout has passed lets the caller through as the trial call."""
    cb = breaker()
    if cb.current_state != pybreaker.STATE_OPEN:
        return
    retry_after = _seconds_until_trial(cb)
    opened_at = cb._state_storage.opened_at
    if opened_at is None or datetime.now(UTC) < opened_at + timedelta(seconds=cb.reset_timeout):
        raise StorageUnavailable("Storage circuit breaker is open.", retry_after=retry_after)


# --- Guarded execution ------------------------------------------------------------------


def _out_of_time(retry_state: RetryCallState) -> bool:
    """No further attempt unless a useful one still fits before the deadline."""
    remaining = (
        settings.STORAGE_REQUEST_DEADLINE
        - retry_state.seconds_since_start
        - retry_state.upcoming_sleep
    )
    return remaining < MIN_ATTEMPT_SECONDS


def _retrying() -> Retrying:
    return Retrying(
        stop=stop_after_attempt(settings.STORAGE_RETRY_ATTEMPTS) | _out_of_time,
        # Full jitter: a random wait in [0, min(max, initial * 2**attempt)].
        wait=wait_random_exponential(
            multiplier=settings.STORAGE_RETRY_WAIT_INITIAL, max=settings.STORAGE_RETRY_WAIT_MAX
        ),
        retry=retry_if_exception(is_transient),
        reraise=True,
        before_sleep=lambda rs: logger.info(
            "Retrying storage call after %s (attempt %d)",
            type(rs.outcome.exception()).__name__,
            rs.attempt_number,
        ),
    )


def execute(operation: str, fn: Callable[[Any], T]) -> T:
    """Run `fn(client)` under the breaker, with retries. `operation` names it in traces
    and logs. Raises StorageUnavailable when storage is down, StorageObjectNotFound for a
    missing object, and lets other (4xx, programming) errors through unchanged."""
    cb = breaker()
    with tracer.start_as_current_span("placemap.storage." + operation) as span:
        span.set_attribute("storage.bucket", bucket_name())
        try:
            started = time.monotonic()

            def attempt() -> T:
                # Each attempt's timeouts are capped at what is left of the deadline.
                elapsed = time.monotonic() - started
                return fn(s3_client(budget=settings.STORAGE_REQUEST_DEADLINE - elapsed))

            return cb.call(lambda: _retrying()(attempt))
        except pybreaker.CircuitBreakerError as exc:
            span.set_attribute("storage.breaker", "open")
            raise StorageUnavailable(
                "Storage circuit breaker is open.", retry_after=_seconds_until_trial(cb)
            ) from exc
        except (BotoCoreError, ClientError) as exc:
            if isinstance(exc, ClientError):
                code = exc.response.get("Error", {}).get("Code", "")
                if code in NOT_FOUND_CODES:
                    raise StorageObjectNotFound(operation) from exc
            if is_storage_failure(exc):
                span.set_attribute("storage.error", type(exc).__name__)
                raise StorageUnavailable(
                    f"Storage failed: {type(exc).__name__}", retry_after=DEFAULT_RETRY_AFTER
                ) from exc
            raise


# --- Operations --------------------------------------------------------------------------


def _name(key) -> str:
    # A FileField value (FieldFile) or a plain key.
    return getattr(key, "name", key)


def put_object(*, key: str, body: bytes, content_type: str) -> None:
    key = _name(key)
    execute(
        "put_object",
        lambda client: client.put_object(
            Bucket=bucket_name(),
            Key=key,
            Body=body,
            ContentType=content_type,
            # Keys never change content (a new upload gets a new id): cache for long.
            CacheControl="private, max-age=31536000, immutable",
        ),
    )


def get_object_bytes(*, key: str) -> bytes:
    key = _name(key)

    def fetch(client) -> bytes:
        # Read the body inside the retried function: a reset mid-body is transient too.
        return client.get_object(Bucket=bucket_name(), Key=key)["Body"].read()

    return execute("get_object", fetch)


def delete_objects(keys: list[str]) -> None:
    """Delete these keys (missing ones are fine: S3 deletes are idempotent)."""
    keys = sorted({_name(k) for k in keys if k})
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        execute(
            "delete_objects",
            lambda client, chunk=chunk: client.delete_objects(
                Bucket=bucket_name(),
                Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True},
            ),
        )


def iter_objects(*, prefix: str, start_after: str = "", page_size: int = 1000) -> Iterator[dict]:
    """Every object under `prefix` ({"Key", "LastModified", "Size", ...}) in key order,
    after `start_after`, page by page, each page fetched through the breaker."""
    token: str | None = None
    while True:
        params: dict[str, Any] = {"Bucket": bucket_name(), "Prefix": prefix, "MaxKeys": page_size}
        if start_after:
            params["StartAfter"] = start_after
        if token:
            params["ContinuationToken"] = token
        page = execute(
            "list_objects", lambda client, params=params: client.list_objects_v2(**params)
        )
        yield from page.get("Contents", [])
        if not page.get("IsTruncated"):
            return
        token = page["NextContinuationToken"]


def presigned_get_url(*, key: str, expires_in: int | None = None) -> str:
    """A SigV4 GET URL, computed locally (works while storage is down)."""
    return _presign({"Key": _name(key)}, expires_in)


def _presign(params: dict, expires_in: int | None, http_method: str | None = None) -> str:
    # Signed at the window's start (WindowedQueryAuth): the window comes on top of the
    # lifetime, so the URL lives at least `expires_in` from now, whenever in the window.
    expires_in = (
        expires_in or settings.AWS_QUERYSTRING_EXPIRE
    ) + settings.STORAGE_URL_WINDOW_SECONDS
    if http_method in (None, "GET"):
        # The answer's Cache-Control (S3's response-cache-control): the browser may keep
        # the bytes as long as the URL lives; shared caches (a CDN, a proxy) may not, so
        # a deleted photo (rejection, erasure) is served by none of them. Without it,
        # caches would apply heuristic freshness (a tenth of the object's age), shared
        # ones included.
        params = {"ResponseCacheControl": f"private, max-age={expires_in}", **params}
    return public_client().generate_presigned_url(
        "get_object",
        Params={**params, "Bucket": bucket_name()},
        ExpiresIn=expires_in,
        HttpMethod=http_method,
    )


def ensure_bucket() -> None:
    """Operator set-up (tests, `make run`): raw client, no breaker."""
    client = s3_client()
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket_name() not in existing:
        client.create_bucket(Bucket=bucket_name())


def breaker_state_for_probe() -> dict:
    """The breaker's state as breaker_state() reports it, read in one Redis round trip
    bounded by STORAGE_BREAKER_REDIS_TIMEOUT, without building the breaker (which costs
    several round trips). If Redis does not answer, the state is "unknown": a Redis
    outage is the redis check's to report, not a storage failure."""
    redis_url = settings.CACHE_REDIS_URL
    if time.monotonic() < _redis_down_until.get(redis_url, 0.0):
        cb = _local_breaker(
            settings.STORAGE_BREAKER_FAIL_MAX, settings.STORAGE_BREAKER_RESET_TIMEOUT
        )
        return _state_of(cb.current_state, cb.fail_counter, cb._state_storage.opened_at)
    namespace = settings.STORAGE_BREAKER_NAMESPACE
    keys = [f"{namespace}:pybreaker:{name}" for name in ("state", "fail_counter", "opened_at")]
    timeout = settings.STORAGE_BREAKER_REDIS_TIMEOUT
    # One attempt: redis-py's default retries would multiply the timeout fourfold.
    client = redis.Redis.from_url(
        redis_url,
        socket_connect_timeout=timeout,
        socket_timeout=timeout,
        retry=Retry(NoBackoff(), 0),
    )
    try:
        state, failures, opened_at = client.mget(keys)
    except redis.RedisError:
        return {"state": "unknown", "failures": None}
    finally:
        client.close()
    opened = datetime(*time.gmtime(int(opened_at))[:6], tzinfo=UTC) if opened_at else None
    return _state_of(
        state.decode() if state else pybreaker.STATE_CLOSED, int(failures or 0), opened
    )


def _state_of(state: str, failures: int, opened_at: datetime | None) -> dict:
    info: dict[str, Any] = {"state": state, "failures": failures}
    if state == pybreaker.STATE_OPEN:
        reset_timeout = settings.STORAGE_BREAKER_RESET_TIMEOUT
        if opened_at is None:
            info["retry_after"] = reset_timeout
        else:
            remaining = opened_at + timedelta(seconds=reset_timeout) - datetime.now(UTC)
            info["retry_after"] = max(1, int(remaining.total_seconds()) + 1)
    return info


def storage_health() -> dict:
    """For /ready: a direct HEAD of the bucket (not through the breaker, so a probe
    neither trips it nor is blocked by it) plus the breaker's shared state, read so that
    a slow or dead Redis cannot make storage look down (breaker_state_for_probe)."""
    try:
        s3_client().head_bucket(Bucket=bucket_name())
    except (BotoCoreError, ClientError) as exc:
        state = breaker_state_for_probe()
        raise StorageUnavailable(
            f"{type(exc).__name__}: {exc} (breaker {state['state']}, "
            f"{state['failures']} failures in a row)"
        ) from exc
    return {"bucket": bucket_name(), "breaker": breaker_state_for_probe()}


# --- Django's storage API ----------------------------------------------------------------


class PlacemapS3Storage(S3Storage):
    """django-storages' S3Storage whose operations go through the guarded functions
    above: the breaker, the retries and the deadline, on the one shared client (thread
    safe, unlike the per-thread boto3 resources S3Storage would build) with the live
    settings. Only these operations are supported; the others (listdir, modified
    times) would bypass the breaker.

    - save() is a single put_object: no s3transfer threads, multipart or retries of its
      own to multiply tenacity's attempts, and no HEAD first (keys are new UUIDs, and
      AWS_S3_FILE_OVERWRITE is left at True).
    - open() returns the bytes read under the breaker (a lazy S3File would read outside
      it).
    - url() presigns locally for STORAGE_PUBLIC_ENDPOINT_URL: works while storage is
      down; never set a custom domain (it would give unsigned URLs)."""

    def _save(self, name, content) -> str:
        name = clean_name(name)
        content.seek(0)
        content_type = getattr(content, "content_type", None) or self._guess_type(name)
        put_object(key=name, body=content.read(), content_type=content_type)
        return name

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("Photos are written with save(); open() only reads.")
        return ContentFile(get_object_bytes(key=clean_name(name)), name=name)

    def delete(self, name) -> None:
        delete_objects([clean_name(name)])

    def delete_many(self, names) -> None:
        delete_objects([clean_name(name) for name in names])

    def exists(self, name) -> bool:
        try:
            self.size(name)
        except StorageObjectNotFound:
            return False
        return True

    def size(self, name) -> int:
        key = clean_name(name)
        head = execute(
            "head_object", lambda client: client.head_object(Bucket=bucket_name(), Key=key)
        )
        return head["ContentLength"]

    def url(self, name, parameters=None, expire=None, http_method=None) -> str:
        return _presign({**(parameters or {}), "Key": clean_name(name)}, expire, http_method)

    @staticmethod
    def _guess_type(name: str) -> str:
        return mimetypes.guess_type(name)[0] or "application/octet-stream"


class ImageContent(ContentFile):
    """Bytes to save with their content type (ContentFile has none)."""

    def __init__(self, data: bytes, *, content_type: str, name: str | None = None):
        super().__init__(data, name=name)
        self.content_type = content_type


@lru_cache(maxsize=1)
def _fallback_image_storage() -> PlacemapS3Storage:
    return PlacemapS3Storage()


def image_storage() -> PlacemapS3Storage:
    """The photos' storage: STORAGES["images"], or a PlacemapS3Storage with the AWS_*
    settings where that alias is not configured. Its operations read the settings on
    each call, so one instance per process is right even when tests change them."""
    try:
        return storages["images"]
    except InvalidStorageError:
        return _fallback_image_storage()
