"""The memory bound of one decode (docs/photos.md, "Memory"), and that decoding within
it still gives the same pictures: banded resizing, orientation after the downscale."""

import pytest
from PIL import Image as PILImage
from PIL import ImageChops, ImageStat

from bench import decode_memory
from media_store import imaging
from tests.media_store import samples


@pytest.mark.parametrize("kind", ["png-rgba", "png-16bit-grey", "jpeg-cmyk", "webp-animated"])
def test_one_worst_case_decode_stays_under_the_documented_bound(tmp_path, settings, kind):
    path = tmp_path / kind
    path.write_bytes(samples.worst_case(kind, settings.IMAGE_MAX_PIXELS))

    # A fresh process: its peak RSS is this decode's and nothing else's.
    measured = decode_memory.measure(path)

    bound = imaging.decode_bytes_bound()
    assert (measured["width"], measured["height"]) == (2048, 2048)
    assert measured["extra_bytes"] < bound, (
        f"{kind}: {measured['extra_bytes'] / 2**20:.0f} MiB over the documented "
        f"{bound / 2**20:.0f} MiB"
    )


def test_memory_of_finished_concurrent_decodes_goes_back_to_the_system(tmp_path, settings):
    path = tmp_path / "png-rgba"
    path.write_bytes(samples.worst_case("png-rgba", settings.IMAGE_MAX_PIXELS))

    # glibc's default would keep ~170 MiB of these freed pixels in its thread arenas.
    kept = decode_memory.retained(path, threads=2, rounds=2)["retained_bytes"]

    assert kept < 32 * 2**20, f"{kept / 2**20:.0f} MiB kept after the decodes finished"


def test_the_documented_bound_is_4_bytes_per_pixel_plus_64_mib():
    assert imaging.decode_bytes_bound(40_000_000) == 160_000_000 + 64 * 2**20


def _photo_like(mode: str, size: tuple[int, int]) -> PILImage.Image:
    bands = [
        PILImage.effect_noise(size, 70),
        PILImage.linear_gradient("L").resize(size),
        PILImage.effect_mandelbrot(size, (-2.0, -1.2, 1.0, 1.2), 30),
        PILImage.radial_gradient("L").resize(size),
    ]
    return PILImage.merge(mode, bands[: len(mode)])


@pytest.mark.parametrize("mode", ["RGB", "RGBA", "L"])
def test_the_banded_downscale_matches_a_one_piece_resize(mode):
    source = _photo_like(mode, (3001, 2203))
    size = (1024, 752)

    banded = imaging._downscaled(source, mode, size)
    whole = source.resize(size, imaging.RESAMPLE)

    assert (banded.mode, banded.size) == (mode, size)
    if mode == "RGBA":
        # Compare the premultiplied colours: where alpha is ~0 the stored colour is noise.
        banded, whole = banded.convert("RGBa"), whole.convert("RGBa")
    # Same filter and coordinates; only float rounding of the band boxes may differ (by
    # 1, or 2 after the premultiplication round trip), and on very few pixels.
    difference = ImageChops.difference(banded, whole)
    extrema = difference.getextrema()
    assert max(high for _, high in (extrema if len(mode) > 1 else [extrema])) <= 2
    assert max(ImageStat.Stat(difference).mean) < 0.01


def test_a_sideways_png_is_downscaled_and_comes_back_upright(settings):
    settings.IMAGE_MAX_SIDE = 1024
    exif = PILImage.Exif()
    exif[samples.ORIENTATION] = 6  # rotate 90 degrees clockwise to display
    stored_sideways = samples.halves(3000, 1500, mode="RGBA")  # red left, blue right
    data = samples.BytesIO()
    stored_sideways.save(data, "PNG", exif=exif)

    result = imaging.optimize(data.getvalue())

    shown = PILImage.open(samples.BytesIO(result.data))
    assert (result.width, result.height) == shown.size == (512, 1024)
    assert shown.getpixel((256, 100))[:3] == samples.RED  # the left half is now on top
    assert shown.getpixel((256, 900))[:3] == samples.BLUE
    assert "exif" not in shown.info


def test_a_16_bit_grey_png_is_scaled_to_8_bits_when_downscaled(settings):
    settings.IMAGE_MAX_SIDE = 512
    data = samples.BytesIO()
    PILImage.new("I;16", (2000, 1000), 40000).save(data, "PNG")

    result = imaging.optimize(data.getvalue())

    shown = PILImage.open(samples.BytesIO(result.data))
    assert shown.mode == "L"
    assert shown.size == (512, 256)
    assert shown.getpixel((100, 100)) == 40000 // 256
