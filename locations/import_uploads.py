"""Admin import uploads waiting for confirmation, kept in object storage.

The import page (locations/admin_import.py) validates an upload, then keeps it under
`imports/<token>.upload` in the photos' bucket until the uploader confirms or cancels, so
any web replica can confirm an import another one validated: no web process keeps a file
between requests. Each request works on a scratch copy in the system's temp directory
(TMPDIR), deleted before it answers. Every call goes through media_store's storage client
(breaker, retries, deadline: media_store/storage.py); an upload is at most
IMPORT_MAX_UPLOAD_BYTES, held in memory while it is put or fetched.

Uploads nobody confirmed or cancelled (a closed tab, storage down at cancel) are deleted
by the periodic `locations.tasks.purge_stale_import_uploads` after STALE_UPLOAD_SECONDS.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

from django.utils import timezone

from media_store import storage

KEY_PREFIX = "imports/"
# Uploads nobody confirmed or cancelled are deleted after this long.
STALE_UPLOAD_SECONDS = 24 * 3600
CONTENT_TYPE = "application/octet-stream"


def upload_key(token: str) -> str:
    return f"{KEY_PREFIX}{token}.upload"


@contextlib.contextmanager
def scratch_file() -> Iterator[Path]:
    """A temporary file of this request only, deleted when the block ends."""
    fd, name = tempfile.mkstemp(suffix=".upload", prefix="placemap-import-")
    os.close(fd)
    path = Path(name)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def import_upload_store(*, token: str, path: Path) -> None:
    """Put the validated file at `path` under the token's key (StorageUnavailable if
    storage is down: then nothing is kept)."""
    storage.put_object(key=upload_key(token), body=path.read_bytes(), content_type=CONTENT_TYPE)


def import_upload_fetch(*, token: str, path: Path) -> None:
    """Write the token's upload to `path` (StorageObjectNotFound, a FileNotFoundError, if
    it is gone; StorageUnavailable if storage is down)."""
    path.write_bytes(storage.get_object_bytes(key=upload_key(token)))


def import_upload_delete(*, token: str) -> None:
    storage.delete_objects([upload_key(token)])


def import_uploads_purge_stale(*, older_than: timedelta | None = None) -> int:
    """Delete uploads older than `older_than` (default STALE_UPLOAD_SECONDS); how many."""
    if older_than is None:
        older_than = timedelta(seconds=STALE_UPLOAD_SECONDS)
    cutoff = timezone.now() - older_than
    stale = [
        obj["Key"]
        for obj in storage.iter_objects(prefix=KEY_PREFIX)
        if obj["LastModified"] < cutoff
    ]
    storage.delete_objects(stale)
    return len(stale)
