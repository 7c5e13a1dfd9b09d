#!/usr/bin/env python
"""Photo upload latency and throughput through the API, against a bare-Pillow floor.

    .venv/bin/python bench/run_uploads.py [--duration 15] [--repeats 3] [--concurrency 1,2]

Makes deterministic 1, 4 and 12 megapixel camera-like JPEGs (EXIF orientation 6, under
the 5 MB upload cap), starts uvicorn (production settings) against placemap_bench with
its own bucket on the S3 endpoint (moto on :9000), and POSTs them to
/api/v1/images/upload with a token for a bench user, from N client threads for a fixed
time. The floor is the same files through Image.open + exif_transpose + resize to the
configured max side + save (JPEG, same quality) in one process. Thumbnails are made by
the Celery task after commit and are not part of the upload's latency; no worker runs
during the measurement. Uploaded images are deleted through the API afterwards.
"""

from __future__ import annotations

import argparse
import io
import os
import sys
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.run_places import ApiServer

SIZES = {"1MP": (1152, 864), "4MP": (2304, 1728), "12MP": (4000, 3000)}
BENCH_BUCKET = "placemap-bench"
BENCH_USERNAME = "bench-uploader"


def make_jpeg(width: int, height: int, seed: int) -> bytes:
    """A photo-like JPEG: smooth gradients, a fractal and mild sensor noise, which
    compresses about like a real camera picture (2-4 bits per pixel at quality 90)."""
    from PIL import Image, ImageChops, ImageFilter

    base = Image.linear_gradient("L").resize((width, height))
    fractal = Image.effect_mandelbrot((width, height), (-2.0, -1.2, 1.0, 1.2), 40)
    noise = Image.effect_noise((width, height), 28 + seed).filter(ImageFilter.GaussianBlur(0.6))
    red = ImageChops.add(base, noise, scale=1.6)
    green = ImageChops.blend(fractal, noise, 0.35)
    blue = ImageChops.multiply(base.rotate(90, expand=False), fractal).filter(
        ImageFilter.GaussianBlur(1.2)
    )
    image = Image.merge("RGB", (red, green, blue))
    exif = Image.Exif()
    exif[0x0112] = 6  # Orientation: rotate 90 CW to display, as phones write it
    exif[0x010F] = "PlacemapBench"  # Make
    out = io.BytesIO()
    image.save(out, "JPEG", quality=90, exif=exif)
    return out.getvalue()


def floor_once(data: bytes, max_side: int, quality: int, *, tuned: bool = False) -> None:
    """The bare floor (issue 4): open, exif_transpose, LANCZOS resize, save. `tuned` adds
    what a careful pipeline may do on top: JPEG draft decoding (DCT scaling) and
    thumbnail() with reducing_gap, i.e. the best a Pillow-based pipeline can reach."""
    from PIL import Image, ImageOps

    image = Image.open(io.BytesIO(data))
    if tuned and max(image.size) > max_side:
        scale = max_side * 2.0 / max(image.size)
        if scale < 1:
            image.draft("RGB", (round(image.width * scale), round(image.height * scale)))
    image = ImageOps.exif_transpose(image)
    if tuned:
        image.thumbnail((max_side, max_side), Image.Resampling.LANCZOS, reducing_gap=2.0)
    else:
        scale = max_side / max(image.size)
        if scale < 1:
            size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
            image = image.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "JPEG", quality=quality)


def run_floor(
    data: bytes, duration: float, max_side: int, quality: int, *, tuned: bool = False
) -> dict:
    latencies = []
    deadline = time.perf_counter() + duration
    started = time.perf_counter()
    while time.perf_counter() < deadline or len(latencies) < 3:
        one = time.perf_counter()
        floor_once(data, max_side, quality, tuned=tuned)
        latencies.append(time.perf_counter() - one)
    elapsed = time.perf_counter() - started
    return _stats(latencies, elapsed, errors=0)


def _stats(latencies: list[float], elapsed: float, *, errors: int) -> dict:
    values = sorted(latencies)
    return {
        "requests": len(values),
        "errors": errors,
        "rps": len(values) / elapsed if elapsed else 0.0,
        "p50_ms": common.percentile(values, 50) * 1000,
        "p95_ms": common.percentile(values, 95) * 1000,
        "p99_ms": common.percentile(values, 99) * 1000,
    }


def run_api(
    base_url: str, token: str, data: bytes, concurrency: int, duration: float, created: list
) -> dict:
    import requests

    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    statuses: dict[int, int] = {}
    barrier = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def worker(slot: int) -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        barrier.wait()
        while time.perf_counter() < stop_at[0]:
            one = time.perf_counter()
            response = session.post(
                f"{base_url}/api/v1/images/upload",
                files={"file": ("photo.jpg", data, "image/jpeg")},
                timeout=60,
            )
            elapsed = time.perf_counter() - one
            statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
            if response.status_code == 201:
                latencies[slot].append(elapsed)
                created.append(response.json()["id"])
            else:
                errors[slot] += 1
                if errors[slot] == 1:
                    print(f"    upload answered {response.status_code}: {response.text[:300]}")

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + duration
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    result = _stats(
        [v for per in latencies for v in per], time.perf_counter() - started, errors=sum(errors)
    )
    result["statuses"] = statuses
    return result


def bench_user_token() -> str:
    from django.contrib.auth import get_user_model
    from rest_framework.authtoken.models import Token

    user, _ = get_user_model().objects.get_or_create(
        username=BENCH_USERNAME, defaults={"email": "bench@placemap.invalid"}
    )
    token, _ = Token.objects.get_or_create(user=user)
    return token.key


def delete_uploads(base_url: str, token: str, ids: list[str]) -> int:
    import requests

    session = requests.Session()
    session.headers["Authorization"] = f"Token {token}"
    deleted = 0
    for image_id in ids:
        response = session.delete(f"{base_url}/api/v1/images/{image_id}", timeout=30)
        deleted += response.status_code in (200, 204)
    return deleted


def markdown(summary: dict) -> str:
    lines = [
        "| image | file | conc | API uploads/s | API p50 | API p95 | API p99 "
        "| bare floor /s | bare p50 | tuned floor /s | tuned p50 | API p50 / bare p50 "
        "| API p50 / tuned p50 |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for label, per in summary.items():
        floor, tuned = per["floor"], per["floor_tuned"]
        for conc, api in per["api"].items():
            lines.append(
                f"| {label} | {per['bytes'] / 1e6:.1f} MB | {conc} | {api['rps']:.1f} | "
                f"{api['p50_ms']:.0f} | {api['p95_ms']:.0f} | {api['p99_ms']:.0f} | "
                f"{floor['rps']:.1f} | {floor['p50_ms']:.0f} | "
                f"{tuned['rps']:.1f} | {tuned['p50_ms']:.0f} | "
                f"{api['p50_ms'] / floor['p50_ms']:.2f}x | {api['p50_ms'] / tuned['p50_ms']:.2f}x |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=15, help="seconds per measurement")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", default="1,2")
    parser.add_argument("--sizes", default=",".join(SIZES))
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--port", type=int, default=8769)
    parser.add_argument("--keep", action="store_true", help="do not delete the uploads")
    args = parser.parse_args(argv)
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    labels = [s for s in args.sizes.split(",") if s]

    # Other apps add migrations as they go; the server must see the current schema.
    common.migrate()
    os.environ["AWS_STORAGE_BUCKET_NAME"] = BENCH_BUCKET
    common.setup_django()
    from django.conf import settings

    from media_store import storage

    storage.ensure_bucket()
    token = bench_user_token()
    max_side, quality = settings.IMAGE_MAX_SIDE, settings.IMAGE_JPEG_QUALITY
    machine = common.machine()
    print(f"machine: {machine['nproc']} x {machine['cpu']}, load {machine['loadavg_at_start']}")

    files = {}
    for index, label in enumerate(labels):
        width, height = SIZES[label]
        files[label] = make_jpeg(width, height, index)
        print(f"  {label}: {width}x{height}, {len(files[label]) / 1e6:.2f} MB")
        if len(files[label]) > settings.IMAGE_UPLOAD_MAX_BYTES:
            raise SystemExit(f"{label} is over IMAGE_UPLOAD_MAX_BYTES; the API would refuse it")

    raw: dict = {
        label: {"floor": [], "floor_tuned": [], "api": {str(c): [] for c in concurrencies}}
        for label in labels
    }
    created: list[str] = []
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    server = ApiServer(
        port=args.port,
        workers=args.workers,
        log_path=common.RESULTS_DIR / f"uvicorn-uploads-{stamp}.log",
        extra_env={"AWS_STORAGE_BUCKET_NAME": BENCH_BUCKET},
    )
    with server:
        # Warm-up: the first request of each worker imports Pillow plugins and opens
        # connections.
        run_api(server.base_url, token, files[labels[0]], 2, 2, created)
        for repeat in range(args.repeats):
            for label in labels:
                floor = run_floor(files[label], args.duration, max_side, quality)
                raw[label]["floor"].append(floor)
                tuned = run_floor(files[label], args.duration, max_side, quality, tuned=True)
                raw[label]["floor_tuned"].append(tuned)
                print(
                    f"[{repeat + 1}/{args.repeats}] {label:>4} floor   {floor['rps']:6.2f}/s "
                    f"p50 {floor['p50_ms']:7.1f} p95 {floor['p95_ms']:7.1f} ms; tuned "
                    f"{tuned['rps']:6.2f}/s p50 {tuned['p50_ms']:7.1f} ms",
                    flush=True,
                )
                for conc in concurrencies:
                    api = run_api(
                        server.base_url, token, files[label], conc, args.duration, created
                    )
                    raw[label]["api"][str(conc)].append(api)
                    print(
                        f"[{repeat + 1}/{args.repeats}] {label:>4} API c={conc} "
                        f"{api['rps']:6.2f}/s p50 {api['p50_ms']:7.1f} "
                        f"p95 {api['p95_ms']:7.1f} ms errors {api['errors']} {api['statuses']}",
                        flush=True,
                    )
        deleted = 0 if args.keep else delete_uploads(server.base_url, token, created)

    def med(runs: list[dict]) -> dict:
        return {
            key: common.median([r[key] for r in runs])
            for key in ("rps", "p50_ms", "p95_ms", "p99_ms")
        } | {"runs": len(runs), "errors": sum(r["errors"] for r in runs)}

    summary = {
        label: {
            "bytes": len(files[label]),
            "pixels": SIZES[label],
            "floor": med(raw[label]["floor"]),
            "floor_tuned": med(raw[label]["floor_tuned"]),
            "api": {conc: med(runs) for conc, runs in raw[label]["api"].items()},
        }
        for label in labels
    }
    results = {
        "machine": machine,
        "loadavg_at_end": list(os.getloadavg()),
        "args": vars(args),
        "command": " ".join([".venv/bin/python", "bench/run_uploads.py", *(argv or sys.argv[1:])]),
        "settings": {"IMAGE_MAX_SIDE": max_side, "IMAGE_JPEG_QUALITY": quality},
        "uploads": len(created),
        "deleted": deleted,
        "run_id": str(uuid.uuid4()),
        "summary": summary,
        "raw": raw,
    }
    table = markdown(summary)
    path = common.write_result("uploads", results, table)
    print(f"{len(created)} uploads, {deleted} deleted afterwards; results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
