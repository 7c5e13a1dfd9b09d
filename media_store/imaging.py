"""The photo pipeline on bytes: decide the type by content, refuse bombs before decoding,
decode (within a bounded memory budget, see decode_bytes_bound), downscale, apply the
EXIF orientation, and re-encode from the decoded pixels with no metadata but the colour
profile. Pure CPU work: no database, no storage, so it can be timed on its own (bench/)
and run anywhere.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import math
import os
import struct
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http import HTTPStatus
from io import BytesIO

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from config.errors import ApplicationError, DependencyUnavailable
from media_store import constants

logger = logging.getLogger(__name__)

# As Pillow's thumbnail: JPEG DCT scaling (draft) only down to twice the target, the
# rest resampled. Visually the same as a full resample.
REDUCING_GAP = 2.0
# Pillow's thumbnail default. Its downscaling filter is antialiased (support widened by
# the scale), so photos look as good as with Lanczos, at about two thirds of the cost.
RESAMPLE = Image.Resampling.BICUBIC
# What Pillow's decoders raise on truncated or malformed data (fuzzing reports show
# each of these escaping from some plugin on hostile input).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)

# Memory of one decode. Pillow keeps every accepted layout in at most 4 bytes per pixel
# (RGB, RGBA and CMYK use 4, 16-bit grey 2, palette and grey 1), and the decoded source
# is the only full-size buffer _render keeps. WebP costs more: libwebp's animation
# decoder (the only WebP decoder Pillow has) keeps two canvases of its own, hands the
# frame over as another copy and needs working buffers for lossless data; measured at
# ~24 bytes per pixel, hence a WebP pixel limit of IMAGE_MAX_PIXELS / 6, which keeps it
# within the same bound.
DECODED_BYTES_PER_PIXEL = 4
WEBP_DECODE_COPIES = 6
# Rows of output resized per band: each band copies about
# BAND_ROWS * scale * width * 4 bytes twice (crop, premultiplied), ~20 MB at the cap.
BAND_ROWS = 128
# Besides the decoded source: the output image and its encoder's buffers (at most
# IMAGE_MAX_SIDE squared x 4 bytes each, 16 MiB at 2048), two bands, the resize's horizontal
# pass and allocator slack: measured at 37-40 MiB (docs/photos.md).
DECODE_OVERHEAD_BYTES = 64 * 2**20
EXIF_ORIENTATION = 0x0112
# EXIF orientation -> the transpose that shows the image upright (as ImageOps.exif_transpose).
ORIENTATION_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
SIXTEEN_BIT_GREY_MODES = ("I;16", "I;16B", "I;16L", "I")
# glibc's mallopt() parameter, and the size from which allocations get their own mapping.
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD_BYTES = 1024 * 1024


def _return_freed_pixels_to_the_system() -> None:
    """Make glibc map every allocation of 1 MiB or more on its own, so that freeing a
    decoded image gives the memory back at once. By default glibc raises its threshold
    up to 32 MiB after the first big free and then serves Pillow's 16 MiB image blocks
    from its arenas, which keep them: a web process measured ~250 MiB above its idle
    size after concurrent uploads, and peaks above the bound (docs/benchmarks.md).
    An explicit MALLOC_MMAP_THRESHOLD_ in the environment wins."""
    if "MALLOC_MMAP_THRESHOLD_" in os.environ:
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)
    except (OSError, AttributeError):
        logger.info("Not glibc: freed image memory is returned as the allocator decides")


_return_freed_pixels_to_the_system()


class ImageRejected(ApplicationError):
    """The upload is not an image Placemap stores; `str(exc)` is safe to show."""

    field = "file"


class DecodeBusy(DependencyUnavailable):
    """Every decode slot of this process stayed taken for IMAGE_DECODE_WAIT_SECONDS."""

    default_detail = "Too many photos are being processed; retry later."

    def __init__(self, retry_after: int):
        super().__init__(retry_after=retry_after)


class UnsupportedImageType(ImageRejected):
    status = HTTPStatus.UNSUPPORTED_MEDIA_TYPE
    code = "unsupported_media_type"


class InvalidImage(ImageRejected):
    pass


@dataclass(frozen=True)
class EncodedImage:
    data: bytes
    format: str  # one of constants.ACCEPTED_FORMATS
    width: int
    height: int

    @property
    def content_type(self) -> str:
        return constants.CONTENT_TYPES[self.format]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


# One semaphore per configured size (tests change the setting); each process has its own.
_decode_slots: dict[int, threading.BoundedSemaphore] = {}
_decode_slots_lock = threading.Lock()


@contextmanager
def decode_slot() -> Iterator[None]:
    """Hold one of the process's IMAGE_MAX_CONCURRENT_DECODES slots for a decode, so its
    extra memory stays under that many times decode_bytes_bound(). Waits at most
    IMAGE_DECODE_WAIT_SECONDS, then raises DecodeBusy: a bounded wait, never a queue
    that grows with the number of uploads."""
    slots = settings.IMAGE_MAX_CONCURRENT_DECODES
    with _decode_slots_lock:
        semaphore = _decode_slots.setdefault(slots, threading.BoundedSemaphore(slots))
    wait = settings.IMAGE_DECODE_WAIT_SECONDS
    if not semaphore.acquire(timeout=wait):
        raise DecodeBusy(retry_after=max(1, math.ceil(wait)))
    try:
        yield
    finally:
        semaphore.release()


def decode_bytes_bound(max_pixels: int | None = None) -> int:
    """The most extra memory one optimize() or thumbnail() call needs: the decoded
    source at the pixel cap plus a fixed overhead (docs/photos.md, "Memory")."""
    max_pixels = max_pixels or settings.IMAGE_MAX_PIXELS
    return DECODED_BYTES_PER_PIXEL * max_pixels + DECODE_OVERHEAD_BYTES


def max_pixels_for(fmt: str, max_pixels: int) -> int:
    if fmt == "WEBP":
        return max_pixels // WEBP_DECODE_COPIES
    return max_pixels


def sniff_format(data: bytes) -> str:
    if data.startswith(constants.JPEG_MAGIC):
        return "JPEG"
    if data.startswith(constants.PNG_MAGIC):
        return "PNG"
    if data[:4] == constants.RIFF_MAGIC and data[8:12] == constants.WEBP_MAGIC:
        return "WEBP"
    raise UnsupportedImageType("Only JPEG, PNG and WebP images are accepted.")


def open_image(data: bytes, *, max_pixels: int | None = None) -> Image.Image:
    """Open (headers only, nothing decoded yet) after checking the type by content and
    the pixel count against the cap."""
    fmt = sniff_format(data)
    max_pixels = max_pixels_for(fmt, max_pixels or settings.IMAGE_MAX_PIXELS)
    try:
        # Only the sniffed format's decoder may look at these bytes.
        image = Image.open(BytesIO(data), formats=[fmt])
    except Image.DecompressionBombError as exc:
        raise InvalidImage(_too_many_pixels(max_pixels)) from exc
    except (UnidentifiedImageError, *DECODE_ERRORS) as exc:
        raise InvalidImage(f"The file is not a readable {fmt} image.") from exc
    width, height = image.size
    if width < 1 or height < 1:
        raise InvalidImage(f"The file is not a readable {fmt} image.")
    if width * height > max_pixels:
        raise InvalidImage(_too_many_pixels(max_pixels, width, height, fmt))
    return image


def _too_many_pixels(max_pixels: int, width: int = 0, height: int = 0, fmt: str = "") -> str:
    size = f" ({width}x{height})" if width else ""
    kind = " for WebP" if fmt == "WEBP" else ""
    return f"The image has too many pixels{size}; the limit{kind} is {max_pixels:,} pixels."


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA", "RGBa", "La") or (
        image.mode == "P" and "transparency" in image.info
    )


def _draft_for(image: Image.Image, max_side: int) -> None:
    """Let libjpeg decode at 1/2, 1/4 or 1/8 scale when that still leaves REDUCING_GAP
    times the target size: far less memory and time for big photos."""
    if image.format != "JPEG" or max(image.size) <= max_side:
        return
    scale = max_side * REDUCING_GAP / max(image.size)
    if scale >= 1:
        return
    image.draft(None, (math.ceil(image.width * scale), math.ceil(image.height * scale)))


def _orientation_method(image: Image.Image) -> Image.Transpose | None:
    try:
        orientation = image.getexif().get(EXIF_ORIENTATION)
    except DECODE_ERRORS:
        # A broken EXIF block does not make the pixels unusable; keep them as stored.
        logger.info("Unreadable EXIF orientation; image kept as stored")
        return None
    return ORIENTATION_TRANSPOSE.get(orientation)


def _working_mode(image: Image.Image) -> str:
    """8-bit RGB, RGBA or L: what all three encoders take."""
    if image.mode in SIXTEEN_BIT_GREY_MODES:
        return "L"
    if _has_alpha(image):
        return "RGBA"
    if image.mode in ("RGB", "L"):
        return image.mode
    return "RGB"


def _to_working_mode(band: Image.Image, mode: str) -> Image.Image:
    if band.mode in SIXTEEN_BIT_GREY_MODES:
        # 16-bit greyscale: scale down rather than clip everything above 255 to white.
        return band.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    return band if band.mode == mode else band.convert(mode)


def _downscaled(image: Image.Image, mode: str, size: tuple[int, int]) -> Image.Image:
    """`image` resized to `size` in `mode`, one horizontal band at a time.

    Pillow's resize() and convert() each make a full-size copy (alpha images are
    premultiplied into one before resampling), which doubles or triples the memory of a
    decoded image. Here only a band of the source is ever copied: each band is cut with
    enough margin rows for the filter's support and resized with `box`, which maps the
    band's rows exactly as the whole image's would, so the result matches a one-piece
    resize."""
    width, height = image.size
    out = Image.new(mode, size)
    scale_y = height / size[1]
    # Bicubic reads 2 source pixels per output pixel on each side, times the scale.
    margin = math.ceil(2 * max(scale_y, 1.0)) + 2
    premultiplied = {"RGBA": "RGBa"}.get(mode)
    for top in range(0, size[1], BAND_ROWS):
        bottom = min(top + BAND_ROWS, size[1])
        src_top, src_bottom = top * scale_y, bottom * scale_y
        crop_top = max(0, math.floor(src_top) - margin)
        crop_bottom = min(height, math.ceil(src_bottom) + margin)
        band = _to_working_mode(image.crop((0, crop_top, width, crop_bottom)), mode)
        if premultiplied:
            band = band.convert(premultiplied)
        band = band.resize(
            (size[0], bottom - top),
            RESAMPLE,
            box=(0, src_top - crop_top, width, src_bottom - crop_top),
        )
        out.paste(band.convert(mode) if premultiplied else band, (0, top))
    return out


def _target_size(size: tuple[int, int], max_side: int) -> tuple[int, int]:
    """What Image.thumbnail((max_side, max_side)) picks: aspect kept, never upscaled."""
    width, height = size
    if width <= max_side and height <= max_side:
        return size
    aspect = width / height

    def round_aspect(number: float, key) -> int:
        return max(min(math.floor(number), math.ceil(number), key=key), 1)

    if aspect <= 1:
        return round_aspect(max_side * aspect, key=lambda n: abs(aspect - n / max_side)), max_side
    return max_side, round_aspect(
        max_side / aspect, key=lambda n: 0 if n == 0 else abs(aspect - max_side / n)
    )


def _encode(image: Image.Image, fmt: str, icc_profile: bytes | None) -> bytes:
    # Pillow copies some metadata from image.info into the new file (JPEG comments, PNG
    # transparency and text); start from nothing so only what is passed below is written.
    image.info = {}
    options: dict = {}
    if icc_profile:
        options["icc_profile"] = icc_profile
    if fmt == "JPEG":
        if image.mode == "RGBA":
            image = image.convert("RGB")
        options.update(quality=settings.IMAGE_JPEG_QUALITY, optimize=False)
    elif fmt == "WEBP":
        options.update(quality=settings.IMAGE_WEBP_QUALITY, method=4)
    else:
        options.update(compress_level=settings.IMAGE_PNG_COMPRESS_LEVEL)
    out = BytesIO()
    image.save(out, format=fmt, **options)
    return out.getvalue()


def _render(image: Image.Image, *, max_side: int, fmt: str) -> EncodedImage:
    """Decode once, then work on bands and on the small result only: the decoded
    source is the one full-size buffer (see decode_bytes_bound)."""
    icc_profile = image.info.get("icc_profile")
    # A CMYK (or Lab...) profile does not describe the converted RGB pixels: drop it.
    keep_icc = image.mode not in ("CMYK", "LAB")
    _draft_for(image, max_side)
    try:
        image.load()  # the actual decode: truncation and corruption surface here
    except Image.DecompressionBombError as exc:
        raise InvalidImage(_too_many_pixels(settings.IMAGE_MAX_PIXELS)) from exc
    except DECODE_ERRORS as exc:
        raise InvalidImage(f"The file is not a readable {image.format} image.") from exc
    transpose = _orientation_method(image)
    mode = _working_mode(image)
    # Orientation is applied to the small result: transposing first would copy the
    # full-size pixels, and the longest side (all the target depends on) is the same.
    size = _target_size(image.size, max_side)
    # An image already within max_side is small: a whole copy costs little.
    small = size == image.size
    result = _to_working_mode(image, mode) if small else _downscaled(image, mode, size)
    if transpose is not None:
        result = result.transpose(transpose)
    data = _encode(result, fmt, icc_profile if keep_icc else None)
    return EncodedImage(data=data, format=fmt, width=result.width, height=result.height)


def optimize(data: bytes, *, max_side: int | None = None) -> EncodedImage:
    """The stored version of an upload: same format, upright, at most `max_side` px on
    its longest side, re-encoded from pixels. Raises UnsupportedImageType (not JPEG,
    PNG or WebP) or InvalidImage (truncated, corrupt, too many pixels)."""
    image = open_image(data)
    with image:
        return _render(image, max_side=max_side or settings.IMAGE_MAX_SIDE, fmt=image.format)


def thumbnail(data: bytes, *, size: int) -> EncodedImage:
    """A thumbnail of a stored (already optimized) image, longest side `size` px (never
    upscaled). Deterministic: the same input gives the same bytes."""
    image = open_image(data)
    with image:
        fmt = settings.IMAGE_THUMBNAIL_FORMAT
        if fmt == "JPEG" and _has_alpha(image):
            fmt = "WEBP"  # JPEG has no alpha channel; WebP keeps the transparency
        return _render(image, max_side=size, fmt=fmt)
