"""The photo pipeline on bytes: decide the type by content, refuse bombs before decoding,
decode, apply the EXIF orientation, downscale, and re-encode from the decoded pixels
with no metadata but the colour profile. Pure CPU work: no database, no storage, so it
can be timed on its own (bench/) and run anywhere.
"""

from __future__ import annotations

import hashlib
import logging
import math
import struct
from dataclasses import dataclass
from io import BytesIO

from django.conf import settings
from PIL import Image, ImageOps, UnidentifiedImageError

from media_store import constants

logger = logging.getLogger(__name__)

# Pillow's thumbnail default: shrink by whole factors (JPEG DCT scaling, reduce()) down
# to twice the target, then resample the rest. Visually the same as a full resample.
REDUCING_GAP = 2.0
# Pillow's thumbnail default. Its downscaling filter is antialiased (support widened by
# the scale), so photos look as good as with Lanczos, at about two thirds of the cost.
RESAMPLE = Image.Resampling.BICUBIC
# What Pillow's decoders raise on truncated or malformed data (fuzzing reports show
# each of these escaping from some plugin on hostile input).
DECODE_ERRORS = (OSError, SyntaxError, ValueError, EOFError, IndexError, struct.error)


class ImageRejected(Exception):
    """The upload is not an image Placemap stores; `str(exc)` is safe to show."""


class UnsupportedImageType(ImageRejected):
    pass


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
    max_pixels = max_pixels or settings.IMAGE_MAX_PIXELS
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
        raise InvalidImage(_too_many_pixels(max_pixels, width, height))
    return image


def _too_many_pixels(max_pixels: int, width: int = 0, height: int = 0) -> str:
    size = f" ({width}x{height})" if width else ""
    return f"The image has too many pixels{size}; the limit is {max_pixels:,} pixels."


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


def _orient(image: Image.Image) -> None:
    try:
        ImageOps.exif_transpose(image, in_place=True)
    except DECODE_ERRORS:
        # A broken EXIF block does not make the pixels unusable; keep them as stored.
        logger.info("Unreadable EXIF orientation; image kept as stored")


def _normalize_mode(image: Image.Image) -> tuple[Image.Image, bool]:
    """8-bit RGB, RGBA or L: what all three encoders take. Returns (image, keep_icc)."""
    if image.mode in ("I;16", "I;16B", "I;16L", "I"):
        # 16-bit greyscale: scale down rather than clip everything above 255 to white.
        return image.convert("I").point(lambda value: value * (1 / 256)).convert("L"), True
    if _has_alpha(image):
        return (image if image.mode == "RGBA" else image.convert("RGBA")), True
    if image.mode in ("RGB", "L"):
        return image, True
    # A CMYK (or Lab...) profile does not describe the converted RGB pixels: drop it.
    return image.convert("RGB"), image.mode not in ("CMYK", "LAB")


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
    icc_profile = image.info.get("icc_profile")
    _draft_for(image, max_side)
    try:
        image.load()  # the actual decode: truncation and corruption surface here
    except Image.DecompressionBombError as exc:
        raise InvalidImage(_too_many_pixels(settings.IMAGE_MAX_PIXELS)) from exc
    except DECODE_ERRORS as exc:
        raise InvalidImage(f"The file is not a readable {image.format} image.") from exc
    _orient(image)
    image, keep_icc = _normalize_mode(image)
    if max(image.size) > max_side:
        image.thumbnail((max_side, max_side), RESAMPLE, reducing_gap=REDUCING_GAP)
    data = _encode(image, fmt, icc_profile if keep_icc else None)
    return EncodedImage(data=data, format=fmt, width=image.width, height=image.height)


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
