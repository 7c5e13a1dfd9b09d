"""Image files built with Pillow for the tests: real encodings, real metadata."""

import struct
import zipfile
import zlib
from functools import lru_cache
from io import BytesIO

from PIL import Image, ImageCms

RED = (220, 20, 20)
BLUE = (20, 20, 220)
GPS_IFD = 0x8825
ORIENTATION = 0x0112


@lru_cache(maxsize=1)
def srgb_icc_profile() -> bytes:
    # Cached: littlecms stamps each new profile with its creation time.
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def halves(width: int, height: int, left=RED, right=BLUE, mode="RGB") -> Image.Image:
    """Left half `left`, right half `right`: orientation mistakes are visible."""
    image = Image.new(mode, (width, height), left)
    image.paste(right, (width // 2, 0, width, height))
    return image


def jpeg_with_gps_and_orientation_6(width: int = 400, height: int = 200) -> bytes:
    """Stored sideways (orientation 6: rotate 90 degrees clockwise to display), with a
    GPS position, a camera make, an XMP packet, a comment and an sRGB profile."""
    exif = Image.Exif()
    exif[ORIENTATION] = 6
    exif[0x010F] = "SecretCam"  # Make
    gps = exif.get_ifd(GPS_IFD)
    gps[1] = "N"
    gps[2] = (52.0, 31.0, 12.5)
    gps[3] = "E"
    gps[4] = (13.0, 24.0, 3.0)
    out = BytesIO()
    halves(width, height).save(
        out,
        "JPEG",
        quality=95,
        exif=exif,
        icc_profile=srgb_icc_profile(),
        comment=b"home address here",
        xmp=b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF/></x:xmpmeta>',
    )
    return out.getvalue()


def jpeg(width: int, height: int, quality: int = 90) -> bytes:
    out = BytesIO()
    halves(width, height).save(out, "JPEG", quality=quality)
    return out.getvalue()


def png_with_alpha(width: int = 120, height: int = 80) -> bytes:
    """Left half fully transparent, right half opaque blue."""
    image = halves(width, height, left=(0, 0, 0, 0), right=(*BLUE, 255), mode="RGBA")
    out = BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def webp(width: int = 160, height: int = 90) -> bytes:
    out = BytesIO()
    halves(width, height).save(out, "WEBP", quality=90)
    return out.getvalue()


def gif() -> bytes:
    out = BytesIO()
    halves(40, 20).save(out, "GIF")
    return out.getvalue()


def truncated_jpeg() -> bytes:
    data = jpeg(600, 400)
    return data[: len(data) // 2]


def _png_chunk(kind: bytes, payload: bytes) -> bytes:
    return (
        struct.pack(">I", len(payload))
        + kind
        + payload
        + struct.pack(">I", zlib.crc32(kind + payload) & 0xFFFFFFFF)
    )


def png_declaring(width: int, height: int) -> bytes:
    """A few hundred bytes whose header claims width x height RGB pixels: decoding it
    would need width * height * 3 bytes of memory."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _png_chunk(b"IHDR", header)
        + _png_chunk(b"IDAT", zlib.compress(b"\x00" * 1024))
        + _png_chunk(b"IEND", b"")
    )


SVG_WITH_SCRIPT = (
    b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>fetch('/api/v1/me').then(r=>r.text()).then(alert)</script></svg>"
)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
TEXT = b"This is not a photo, whatever its name says.\n"


def zip_archive() -> bytes:
    out = BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("photo.jpg", jpeg(20, 20))
    return out.getvalue()
