#!/usr/bin/env python
"""Load-test the vector tiles (GET /api/v1/tiles/{z}/{x}/{y}.mvt) over HTTP and as bare SQL.

    .venv/bin/python bench/run_tiles.py [--zooms 4,8,12,15,17] [--duration 15] [--repeats 1]

Needs a seeded bench database (bench/seed_places.py; BENCH_DB picks which) and `wrk`.
Tiles are sampled where the places are: around the seeded cities (the same gaussian as
the seeder), deduplicated, per zoom. For each zoom and concurrency it runs wrk against
uvicorn (production settings, 2 workers, throttles out of the way) and then the tile's
SQL (locations.selectors.locations_tile_sql) straight against PostgreSQL from N threads
(the floor). Also measures revalidation: the same tiles with a matching If-None-Match
(304). Writes bench/results/tiles-*.json and a markdown table beside it.

With `--tipg-python /path/to/venv/bin/python` (a separate venv with `tipg==1.6.1` and
uvicorn; tipg is not a Placemap dependency) it also starts tipg on the same database
with the same number of workers and runs the same tiles against its own MVT endpoint
(`/collections/public.locations_location/tiles/WebMercatorQuad/{z}/{x}/{y}`).
"""

from __future__ import annotations

import argparse
import math
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.run_places import ApiServer, run_floor, run_wrk, summarize
from bench.seed_places import CITIES, KM_PER_DEG_LAT

ZOOMS = (4, 8, 12, 15, 17)
WRK_ETAG_SCRIPT = common.BENCH_DIR / "wrk_paths_etag.lua"


def tile_of(lon: float, lat: float, z: int) -> tuple[int, int]:
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return min(max(x, 0), n - 1), min(max(y, 0), n - 1)


def sample_tiles(z: int, count: int, seed: int) -> list[tuple[int, int, int]]:
    """Up to `count` distinct tiles at zoom z around the seeded cities (fewer where the
    cities only touch a handful of tiles, as at z 4)."""
    rng = random.Random(seed * 100 + z)
    tiles: dict[tuple[int, int, int], None] = {}
    for _ in range(count * 20):
        _name, lon0, lat0, _weight, sigma = rng.choices(CITIES, [c[3] for c in CITIES])[0]
        lat = lat0 + rng.gauss(0, sigma * 0.6) / KM_PER_DEG_LAT
        lon = lon0 + rng.gauss(0, sigma * 0.6) / (KM_PER_DEG_LAT * math.cos(math.radians(lat0)))
        tiles[(z, *tile_of(lon, lat, z))] = None
        if len(tiles) >= count:
            break
    return list(tiles)


def tile_path(tile: tuple[int, int, int]) -> str:
    z, x, y = tile
    return f"/api/v1/tiles/{z}/{x}/{y}.mvt"


TIPG_COLLECTION = "public.locations_location"


def tipg_path(tile: tuple[int, int, int]) -> str:
    z, x, y = tile
    return f"/collections/{TIPG_COLLECTION}/tiles/WebMercatorQuad/{z}/{x}/{y}"


class TipgServer:
    """tipg (OGC API Features and Tiles on PostGIS) from its own venv, for comparison."""

    def __init__(self, *, python: str, port: int, workers: int, log_path: Path):
        self.python, self.port, self.workers, self.log_path = python, port, workers, log_path
        self.process: subprocess.Popen | None = None

    @classmethod
    def from_args(cls, args, *, log_name: str) -> TipgServer:
        """The server a bench's --tipg-python, --tipg-port and --workers describe, its log
        in bench/results/<log_name>."""
        return cls(
            python=args.tipg_python,
            port=args.tipg_port,
            workers=args.workers,
            log_path=common.RESULTS_DIR / log_name,
        )

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> TipgServer:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        env = dict(os.environ)
        env.update(
            DATABASE_URL=f"postgresql://{common.PG_USER}:{common.PG_PASSWORD}@"
            f"{common.PG_HOST}:{common.PG_PORT}/{common.BENCH_DB}",
            TIPG_DB_SCHEMAS='["public"]',
            TIPG_DB_EXCLUDE_FUNCTION_SCHEMAS='["public"]',
        )
        self.process = subprocess.Popen(
            [
                self.python,
                "-m",
                "uvicorn",
                "tipg.main:app",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--no-access-log",
                "--log-level",
                "warning",
            ],
            env=env,
            stdout=self.log_path.open("wb"),
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        common.wait_for_http(f"{self.base_url}/collections", timeout=90)
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            os.killpg(self.process.pid, 15)
            self.process.wait(timeout=15)


def check_tiles(base_url: str, tiles: list[tuple[int, int, int]], path=tile_path) -> dict:
    """Fetch each tile once: statuses, mean size and features (decoded), and ETags."""
    import mapbox_vector_tile

    statuses: dict[int, int] = {}
    size = features = clusters = 0
    etags = {}
    for tile in tiles:
        with urllib.request.urlopen(base_url + path(tile), timeout=60) as response:  # noqa: S310
            body = response.read()
            statuses[response.status] = statuses.get(response.status, 0) + 1
            etags[tile] = response.headers.get("ETag", "")
        size += len(body)
        if body:
            layer = next(iter(mapbox_vector_tile.decode(body).values()))["features"]
            features += len(layer)
            clusters += sum(1 for f in layer if f["properties"].get("cluster"))

    n = max(1, len(tiles))
    return {
        "statuses": statuses,
        "mean_bytes": size / n,
        "mean_features": features / n,
        "mean_clusters": clusters / n,
        "etags": etags,
    }


def markdown(results: dict) -> str:
    lines = [
        "| zoom | tiles | mean KB | features | conc | API req/s | p50 ms | p95 ms | p99 ms "
        "| 304 req/s | 304 p50 ms | SQL req/s | SQL p50 ms | SQL p95 ms "
        "| tipg req/s | tipg p50 ms | tipg KB |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for z, per_zoom in results["summary"].items():
        check = results["checks"].get(z) or {"tiles": 0, "mean_bytes": 0, "mean_features": 0}
        for conc, runs in per_zoom.items():
            api, revalidate, floor = runs.get("api"), runs.get("revalidate"), runs.get("floor")
            tipg = runs.get("tipg")
            tipg_check = results["tipg_checks"].get(z)
            tipg_kb = f"{tipg_check['mean_bytes'] / 1024:.0f}" if tipg_check else "-"

            def cell(s, key, fmt="{:.1f}"):
                return fmt.format(s[key]) if s else "-"

            lines.append(
                f"| {z} | {check['tiles']} | {check['mean_bytes'] / 1024:.1f} "
                f"| {check['mean_features']:.0f} | {conc} "
                f"| {cell(api, 'rps', '{:.0f}')} | {cell(api, 'p50_ms')} | {cell(api, 'p95_ms')} "
                f"| {cell(api, 'p99_ms')} | {cell(revalidate, 'rps', '{:.0f}')} "
                f"| {cell(revalidate, 'p50_ms')} | {cell(floor, 'rps', '{:.0f}')} "
                f"| {cell(floor, 'p50_ms')} | {cell(floor, 'p95_ms')} "
                f"| {cell(tipg, 'rps', '{:.0f}')} | {cell(tipg, 'p50_ms')} | {tipg_kb} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--zooms", default=",".join(map(str, ZOOMS)))
    parser.add_argument("--tiles", type=int, default=200, help="distinct tiles per zoom (at most)")
    parser.add_argument("--duration", type=float, default=15, help="seconds per measurement")
    parser.add_argument("--repeats", type=int, default=1, help="runs per case (median)")
    parser.add_argument("--concurrency", default="1,8")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--port", type=int, default=8771)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per zoom")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--skip-revalidate", action="store_true")
    parser.add_argument("--tipg-python", help="python of a venv with tipg 1.6.1: compare")
    parser.add_argument("--tipg-port", type=int, default=8772)
    parser.add_argument(
        "--lean-reads",
        choices=("true", "false"),
        default="true",
        help="LEAN_READS of the Placemap server: false measures Django's full stack",
    )
    parser.add_argument(
        "--skip-placemap", action="store_true", help="only tipg (with --tipg-python)"
    )
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: apt-get install -y wrk")
    zooms = [int(z) for z in args.zooms.split(",") if z]
    concurrencies = [int(c) for c in args.concurrency.split(",")]

    common.migrate()
    common.setup_django()
    from locations.selectors import locations_tile_sql

    machine = common.machine()
    print(f"machine: {machine['nproc']} x {machine['cpu']}, load {machine['loadavg_at_start']}")
    with __import__("psycopg").connect(common.pg_dsn()) as conn:
        places = conn.execute(
            "SELECT count(*) FROM locations_location WHERE status = 'approved'"
        ).fetchone()[0]
    print(f"{places:,} approved places in {common.BENCH_DB}")

    tiles = {z: sample_tiles(z, args.tiles, args.seed) for z in zooms}
    workdir = Path(tempfile.mkdtemp(prefix="placemap-bench-tiles-"))
    raw: dict = {
        str(z): {str(c): {"api": [], "revalidate": [], "floor": []} for c in concurrencies}
        for z in zooms
    }
    checks: dict = {}
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    server = ApiServer(
        port=args.port,
        workers=args.workers,
        log_path=common.RESULTS_DIR / f"uvicorn-tiles-{stamp}.log",
        # The lean ASGI path (config/lean.py) by default; "false" measures Django's.
        extra_env={"LEAN_READS": args.lean_reads},
    )
    try:
        if args.skip_placemap:
            zooms_placemap: list[int] = []
        else:
            zooms_placemap = zooms
            server.__enter__()
        paths_files, etag_files = {}, {}
        for z in zooms_placemap:
            check = check_tiles(server.base_url, tiles[z])
            etags = check.pop("etags")
            checks[str(z)] = {"tiles": len(tiles[z]), **check}
            print(f"  z{z}: {checks[str(z)]}", flush=True)
            paths_files[z] = workdir / f"z{z}.txt"
            paths_files[z].write_text("\n".join(tile_path(t) for t in tiles[z]) + "\n")
            etag_files[z] = workdir / f"z{z}-etags.txt"
            etag_files[z].write_text(
                "\n".join(f"{tile_path(t)} {etags[t]}" for t in tiles[z]) + "\n"
            )
        statements = {
            z: [locations_tile_sql(z=t[0], x=t[1], y=t[2]) for t in tiles[z]]
            for z in zooms_placemap
        }
        for repeat in range(args.repeats):
            for z in zooms_placemap:
                if args.warmup:
                    run_wrk(server.base_url, paths_files[z], 8, args.warmup, 0)
                for conc in concurrencies:
                    runs = raw[str(z)][str(conc)]
                    result = run_wrk(server.base_url, paths_files[z], conc, args.duration, repeat)
                    runs["api"].append(result)
                    line = f"[{repeat + 1}/{args.repeats}] z{z:<2} c={conc}"
                    print(
                        f"{line} API  {result['rps']:7.1f} req/s  p50 {result['p50_ms']:7.1f}"
                        f"  p95 {result['p95_ms']:7.1f}  p99 {result['p99_ms']:7.1f} ms"
                        f"  errors {result['errors']}",
                        flush=True,
                    )
                    if not args.skip_revalidate:
                        result = run_wrk_etag(server.base_url, etag_files[z], conc, args.duration)
                        runs["revalidate"].append(result)
                        print(
                            f"{line} 304  {result['rps']:7.1f} req/s  "
                            f"p50 {result['p50_ms']:7.1f}  p95 {result['p95_ms']:7.1f} ms",
                            flush=True,
                        )
                    if not args.skip_floor:
                        result = run_floor(statements[z], conc, args.duration)
                        runs["floor"].append(result)
                        print(
                            f"{line} SQL  {result['rps']:7.1f} req/s  "
                            f"p50 {result['p50_ms']:7.1f}  p95 {result['p95_ms']:7.1f} ms",
                            flush=True,
                        )
    finally:
        if not args.skip_placemap:
            server.__exit__(None, None, None)
    tipg_checks: dict = {}
    try:
        if args.tipg_python:
            with TipgServer.from_args(args, log_name=f"tipg-{stamp}.log") as tipg:
                for z in zooms:
                    # A sample: tipg takes up to a second or two per tile here.
                    check = check_tiles(tipg.base_url, tiles[z][:20], path=tipg_path)
                    check.pop("etags")
                    tipg_checks[str(z)] = check
                    print(f"  tipg z{z}: {check}", flush=True)
                    paths = workdir / f"tipg-z{z}.txt"
                    paths.write_text("\n".join(tipg_path(t) for t in tiles[z]) + "\n")
                    for conc in concurrencies:
                        for repeat in range(args.repeats):
                            result = run_wrk(tipg.base_url, paths, conc, args.duration, repeat)
                            raw[str(z)][str(conc)].setdefault("tipg", []).append(result)
                            print(
                                f"[{repeat + 1}/{args.repeats}] z{z:<2} c={conc} tipg "
                                f"{result['rps']:7.1f} req/s  p50 {result['p50_ms']:7.1f}"
                                f"  p95 {result['p95_ms']:7.1f} ms  errors {result['errors']}",
                                flush=True,
                            )
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    summary = {
        z: {
            conc: {kind: summarize(runs) if runs else None for kind, runs in per_conc.items()}
            for conc, per_conc in per_zoom.items()
        }
        for z, per_zoom in raw.items()
    }
    results = {
        "machine": machine,
        "loadavg_at_end": list(os.getloadavg()),
        "approved_places": places,
        "bench_db": common.BENCH_DB,
        "args": vars(args),
        "command": " ".join([".venv/bin/python", "bench/run_tiles.py", *(argv or sys.argv[1:])]),
        "checks": checks,
        "tipg_checks": tipg_checks,
        "summary": summary,
        "raw": raw,
    }
    path = common.write_result("tiles", results, markdown(results))
    print(f"results: {path}")
    return 0


def run_wrk_etag(base_url: str, etag_file: Path, concurrency: int, duration: float) -> dict:
    """run_wrk with If-None-Match set to each tile's current ETag (every answer a 304)."""
    command = [
        "wrk", f"-t{min(concurrency, 2)}", f"-c{concurrency}", f"-d{int(duration)}s",
        "--timeout", "10s", "-s", str(WRK_ETAG_SCRIPT), base_url, "--", str(etag_file),
    ]  # fmt: skip
    out = subprocess.run(command, capture_output=True, text=True, timeout=duration + 60)
    line = next((ln for ln in out.stdout.splitlines() if ln.startswith("{")), None)
    if out.returncode != 0 or line is None:
        raise SystemExit(f"wrk failed: {out.stderr or out.stdout}")
    import json

    raw = json.loads(line)
    seconds = raw["duration_us"] / 1e6
    return {
        "requests": raw["requests"],
        "errors": raw["err_status"] + raw["err_connect"] + raw["err_read"] + raw["err_timeout"],
        "not_modified": raw["not_modified"],
        "rps": raw["requests"] / seconds,
        "p50_ms": raw["p50_us"] / 1000,
        "p95_ms": raw["p95_us"] / 1000,
        "p99_ms": raw["p99_us"] / 1000,
    }


if __name__ == "__main__":
    raise SystemExit(main())
