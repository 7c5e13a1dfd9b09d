"""Fixed facts of the photo pipeline (tunable numbers are settings; see docs/photos.md)."""

# The only formats accepted, as Pillow names them. Pillow is always given this list
# explicitly so no other of its decoders (some much less hardened) ever sees user bytes.
ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")

# Leading bytes of each accepted format. Sniffing them first separates "not an image we
# take" (415) from "one of ours, but broken" (400).
JPEG_MAGIC = b"\xff\xd8\xff"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
RIFF_MAGIC = b"RIFF"
WEBP_MAGIC = b"WEBP"  # at offset 8, after RIFF and the chunk size

CONTENT_TYPES = {"JPEG": "image/jpeg", "PNG": "image/png", "WEBP": "image/webp"}
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}
THUMBNAIL_FORMATS = ("WEBP", "JPEG")

# Every object of an image lives under this prefix, named by the image's UUID (never by
# the client's file name), so keys cannot be guessed and one prefix holds them all.
KEY_PREFIX = "images/"

# Multipart framing (boundaries, part headers, the location_id field) on top of the file
# itself: a request body within the file limit plus this is read; a larger one is 413.
MULTIPART_OVERHEAD_BYTES = 64 * 1024

# The orphan purge deletes at most this many rows and scans at most this many objects per
# run, so one run stays short; the next run continues.
ORPHAN_PURGE_BATCH = 500
ORPHAN_SWEEP_MAX_OBJECTS = 10_000


def original_key(image_id, fmt: str) -> str:
    return f"{KEY_PREFIX}{image_id}/original.{EXTENSIONS[fmt]}"


def thumbnail_key(image_id, size: int, fmt: str) -> str:
    return f"{KEY_PREFIX}{image_id}/thumb-{size}.{EXTENSIONS[fmt]}"
