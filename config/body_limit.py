"""Request body limits enforced at the ASGI layer, before Django reads a byte.

Django's ASGI handler reads the whole body into a temporary file before any middleware or
view runs, so its own limits (DATA_UPLOAD_MAX_MEMORY_SIZE, the upload handlers) come after
the disk and the network have paid for it. This middleware wraps the Django HTTP app:

- the limit depends on the route: the photo upload takes IMAGE_UPLOAD_MAX_BYTES, the
  admin import page IMPORT_MAX_UPLOAD_BYTES (both plus the multipart framing), everything
  else DATA_UPLOAD_MAX_MEMORY_SIZE (None there means no limit);
- a Content-Length over the limit is answered at once with 413 problem+json, the body
  unread, and the connection closed;
- a body without Content-Length (Transfer-Encoding: chunked) is counted while it arrives
  and refused with 413 the moment it passes the limit; one within the limit is buffered
  (so at most the route's limit in memory) and handed to Django with its Content-Length,
  because Django reads a body without one as empty.
"""

import json
import logging

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from config.exceptions import (
    PROBLEM_CONTENT_TYPE,
    ContentTooLarge,
    body_too_large_detail,
    problem_body,
)
from config.middleware import REQUEST_ID_HEADER, request_id_from
from media_store.api.upload_handlers import FILE_FIELD, FileTooLarge
from media_store.constants import MULTIPART_OVERHEAD_BYTES

logger = logging.getLogger(__name__)

PHOTO_UPLOAD_ROUTE = "v1:image-upload"
ADMIN_IMPORT_ROUTE = "admin:locations_location_import"


def _route_path(name: str) -> str | None:
    try:
        return reverse(name)
    except NoReverseMatch:
        return None


def body_limit_for(path: str) -> int | None:
    """Largest body, in bytes, the route at `path` accepts; None for no limit."""
    if path == _route_path(PHOTO_UPLOAD_ROUTE):
        return settings.IMAGE_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES
    if path == _route_path(ADMIN_IMPORT_ROUTE):
        return settings.IMPORT_MAX_UPLOAD_BYTES + MULTIPART_OVERHEAD_BYTES
    return settings.DATA_UPLOAD_MAX_MEMORY_SIZE


def _header(scope, name: bytes) -> bytes | None:
    for key, value in scope["headers"]:
        if key.lower() == name:
            return value
    return None


class _RequestIdOnly:
    """What problem_body needs of a request, before Django has built one."""

    def __init__(self, request_id: str):
        self.request_id = request_id


class BodyLimitMiddleware:
    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = _header(scope, b"content-length")
        chunked = declared is None and _header(scope, b"transfer-encoding") is not None
        if declared is None and not chunked:
            # No body at all (a GET): nothing to limit, and no route to look up (two
            # reverse() calls, ~4% of a tile request's Python under load).
            return await self.app(scope, receive, send)
        limit = body_limit_for(scope["path"])
        if limit is None:
            return await self.app(scope, receive, send)

        if declared is not None:
            # The server stops the body at the declared length: the number is all there is
            # to check. (It refuses a malformed one itself; Django would read that as 0.)
            size = int(declared) if declared.isdigit() else 0
            if size > limit:
                return await self._refuse(scope, send, limit=limit, size=size)
            return await self.app(scope, receive, send)

        chunks: list[bytes] = []
        received = 0
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return None
            chunk = message.get("body", b"")
            received += len(chunk)
            if received > limit:
                return await self._refuse(scope, send, limit=limit, size=None)
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return await self.app(_with_content_length(scope, received), _replay(chunks, receive), send)

    async def _refuse(self, scope, send, *, limit: int, size: int | None) -> None:
        incoming = _header(scope, b"x-request-id")
        # The same id RequestIDMiddleware would give it: the caller's if sane, else new.
        request_id = request_id_from(incoming.decode("latin-1") if incoming else None)
        # One line instead of Django's access line, which this request never reaches.
        logger.warning(
            "Request body refused with 413: %s %s, %s over the limit of %s bytes (request_id %s)",
            scope["method"],
            scope["path"],
            f"{size:,} bytes declared" if size is not None else "chunked body cut off",
            f"{limit:,}",
            request_id,
        )
        content = json.dumps(_problem(scope["path"], limit, request_id)).encode()
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [
                    (b"content-type", PROBLEM_CONTENT_TYPE.encode()),
                    (b"content-length", str(len(content)).encode()),
                    (REQUEST_ID_HEADER.lower().encode(), request_id.encode()),
                    # The rest of the body is never read: the connection cannot be reused.
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": content})


def _problem(path: str, limit: int, request_id: str) -> dict:
    request = _RequestIdOnly(request_id)
    if path == _route_path(PHOTO_UPLOAD_ROUTE):
        # The body the upload view itself would give: the file part named in `errors`.
        message = str(FileTooLarge(settings.IMAGE_UPLOAD_MAX_BYTES).detail[FILE_FIELD][0])
        errors = {FILE_FIELD: [message]}
        detail = f"{FILE_FIELD}: {message}"
        return problem_body(
            request,
            status_code=413,
            detail=detail,
            code=ContentTooLarge.default_code,
            errors=errors,
        )
    return problem_body(
        request,
        status_code=413,
        detail=body_too_large_detail(limit),
        code=ContentTooLarge.default_code,
    )


def _with_content_length(scope, length: int) -> dict:
    headers = [(k, v) for k, v in scope["headers"] if k.lower() != b"transfer-encoding"]
    headers.append((b"content-length", str(length).encode()))
    return {**scope, "headers": headers}


def _replay(chunks: list[bytes], receive):
    """A receive() that hands out the buffered body first, as one message."""
    pending = [b"".join(chunks)]

    async def replayed():
        if pending:
            return {"type": "http.request", "body": pending.pop(), "more_body": False}
        # After the body: what the server says next (a disconnect, when the client goes).
        return await receive()

    return replayed
