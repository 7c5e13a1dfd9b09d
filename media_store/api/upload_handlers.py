"""Bounded reading of photo uploads.

Django's DATA_UPLOAD_MAX_MEMORY_SIZE does not cover file parts, and its default handlers
accept files of any size (spooling big ones to disk). This handler replaces them on the
upload endpoint: it refuses a body whose Content-Length already exceeds the limit before
reading a byte, and stops reading as soon as the file part passes the limit (a body
without an honest Content-Length).
"""

from io import BytesIO

from django.conf import settings
from django.core.files.uploadedfile import InMemoryUploadedFile
from django.core.files.uploadhandler import FileUploadHandler, SkipFile
from rest_framework import exceptions, status

from media_store.constants import MULTIPART_OVERHEAD_BYTES

FILE_FIELD = "file"


class FileTooLarge(exceptions.ValidationError):
    """413 with the usual `errors: {"file": [...]}` body."""

    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE

    def __init__(self, limit: int):
        super().__init__({FILE_FIELD: [f"The file is larger than {limit:,} bytes."]})


def max_body_bytes() -> int:
    return settings.IMAGE_UPLOAD_MAX_BYTES + MULTIPART_OVERHEAD_BYTES


def refuse_oversized_body(meta) -> None:
    """Raise FileTooLarge when the declared body size is over the limit."""
    try:
        declared = int(meta.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0  # Django itself treats a malformed Content-Length as 0
    if declared > max_body_bytes():
        raise FileTooLarge(settings.IMAGE_UPLOAD_MAX_BYTES)


class BoundedImageUploadHandler(FileUploadHandler):
    """Keeps the single `file` part in memory, up to IMAGE_UPLOAD_MAX_BYTES; every
    other file part is skipped unread into memory."""

    def __init__(self, request=None):
        super().__init__(request)
        self.limit = settings.IMAGE_UPLOAD_MAX_BYTES
        self.buffer: BytesIO | None = None
        self.took_file = False

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None):
        if content_length and content_length > max_body_bytes():
            raise FileTooLarge(self.limit)

    def new_file(self, field_name, *args, **kwargs):
        super().new_file(field_name, *args, **kwargs)
        if field_name != FILE_FIELD or self.took_file:
            raise SkipFile()
        self.took_file = True
        self.buffer = BytesIO()

    def receive_data_chunk(self, raw_data, start):
        if start + len(raw_data) > self.limit:
            raise FileTooLarge(self.limit)
        self.buffer.write(raw_data)
        return None

    def file_complete(self, file_size):
        self.buffer.seek(0)
        return InMemoryUploadedFile(
            file=self.buffer,
            field_name=self.field_name,
            name=self.file_name,
            content_type=self.content_type,
            size=file_size,
            charset=self.charset,
            content_type_extra=self.content_type_extra,
        )
