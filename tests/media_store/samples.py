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


# --- Worst cases for memory: the most pixels the cap allows, in every accepted layout ---
# A square at the pixel cap: 6324 x 6324 = 39,992,976 px under the default 40,000,000.


def side_at_cap(max_pixels: int) -> int:
    return int(max_pixels**0.5)


def _noisy_band(mode: str, side: int) -> Image.Image:
    """Mostly flat with a band of noise: compresses to a small file (what makes it a
    cheap attack) yet is not a trivial single colour."""
    image = Image.new(mode, (side, side), (30, 120, 200, 128)[: len(mode)] if mode != "L" else 90)
    noise = Image.effect_noise((side, 64), 60).convert(mode)
    image.paste(noise, (0, side // 2))
    return image


def worst_case(kind: str, max_pixels: int = 40_000_000) -> bytes:
    """One file per accepted layout at the pixel cap; see WORST_CASES."""
    side = side_at_cap(max_pixels)
    # WebP is limited to a sixth of the cap (media_store.imaging.WEBP_DECODE_COPIES).
    webp_side = side_at_cap(max_pixels // 6)
    out = BytesIO()
    if kind == "png-rgba":
        _noisy_band("RGBA", side).save(out, "PNG", compress_level=9)
    elif kind == "png-rgba-orientation-6":
        exif = Image.Exif()
        exif[ORIENTATION] = 6
        _noisy_band("RGBA", side).save(out, "PNG", compress_level=9, exif=exif)
    elif kind == "png-16bit-grey":
        grey = Image.new("I;16", (side, side), 40000)
        grey.paste(Image.new("I;16", (side, 64), 1000), (0, side // 2))
        grey.save(out, "PNG", compress_level=9)
    elif kind == "png-palette":
        _noisy_band("RGB", side).quantize(16).save(out, "PNG", compress_level=9)
    elif kind == "jpeg-cmyk":
        # Just under twice IMAGE_MAX_SIDE per side (4095 px), the largest JPEG that draft
        # mode cannot shrink; a bigger one at the cap decodes at half scale.
        _noisy_band("CMYK", 4095).save(out, "JPEG", quality=50)
    elif kind == "jpeg-rgb":
        _noisy_band("RGB", 4095).save(out, "JPEG", quality=50)
    elif kind == "webp-rgba":
        _noisy_band("RGBA", webp_side).save(out, "WEBP", lossless=True, quality=0, method=0)
    elif kind == "webp-animated":
        frames = [
            _noisy_band("RGBA", webp_side),
            Image.new("RGBA", (webp_side, webp_side), (0, 0, 0, 0)),
        ]
        frames[0].save(
            out, "WEBP", save_all=True, append_images=frames[1:], lossless=True, method=0
        )
    else:
        raise ValueError(kind)
    return out.getvalue()


WORST_CASES = (
    "png-rgba",
    "png-rgba-orientation-6",
    "png-16bit-grey",
    "png-palette",
    "jpeg-cmyk",
    "jpeg-rgb",
    "webp-rgba",
    "webp-animated",
)
