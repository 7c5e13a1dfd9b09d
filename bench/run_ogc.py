#!/usr/bin/env python
"""Load-test GET /api/v1/ogc/collections/places/items on bbox queries, through the HTTP
API (lean path and Django's), against tipg 1.6.1's items endpoint and against the bare SQL.

    BENCH_DB=placemap_bench .venv/bin/python bench/run_ogc.py [--duration 10] [--workers 2] \
        [--repeats 3] [--tipg-python /tmp/tipg/bin/python]

Needs a seeded bench database (bench/seed_places.py) and wrk. Starts uvicorn (production
settings, throttles out of the way) like bench/run_places.py, pre-generates bbox queries
around the seeded cities (three box sizes, `limit` 100 and 1000), and for each case and
concurrency drives each server with wrk (a random pre-generated path per request): the
lean path (LEAN_READS on), Django's path (LEAN_READS off) and, with `--tipg-python`,
tipg's `/collections/public.locations_location/items` with the same bbox and limit
(tipg wants a plain GiST index on `point`: docs/benchmarks.md). Then the same SQL
(locations.selectors.ogc_items_sql) runs straight against PostgreSQL from N threads (the
floor). Repeats are outermost, each server in turn within a repeat; medians are
reported. Writes bench/results/ogc-*.json and a markdown table beside it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.run_places import ApiServer, _bbox_around, _near_city, run_floor, run_wrk, summarize

# (name, half the box's height in km, limit): a neighbourhood, a city, a region.
CASES = (
    ("bbox_1km", 1.0, 100),
    ("bbox_5km", 5.0, 100),
    ("bbox_50km", 50.0, 100),
    ("bbox_5km_limit1000", 5.0, 1000),
)
ITEMS = "/api/v1/ogc/collections/places/items"
TIPG_ITEMS = "/collections/public.locations_location/items"
KINDS = ("lean", "django", "tipg", "floor")


def generate_queries(count: int, seed: int) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    queries: dict[str, list[dict]] = {}
    for name, half_km, limit in CASES:
        queries[name] = [
            {"bbox": _bbox_around(*_near_city(rng), half_km), "limit": limit} for _ in range(count)
        ]
    return queries


def _bbox(query: dict) -> str:
    return ",".join(f"{v:.6f}" for v in query["bbox"])


def api_path(query: dict) -> str:
    return f"{ITEMS}?{urlencode({'bbox': _bbox(query), 'limit': query['limit'], 'f': 'json'})}"


def tipg_path(query: dict) -> str:
    return f"{TIPG_ITEMS}?{urlencode({'bbox': _bbox(query), 'limit': query['limit']})}"


def floor_statements(queries: list[dict]) -> list[tuple[str, dict]]:
    from locations.geo import parse_bbox
    from locations.selectors import ItemsFilter, ogc_items_sql

    return [
        ogc_items_sql(filters=ItemsFilter(bbox=parse_bbox(q["bbox"])), limit=q["limit"])
        for q in queries
    ]


def check(port: int, paths: list[str]) -> float:
    """Every sampled path answers a FeatureCollection; the mean features per answer."""
    returned = []
    for path in paths[:20]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        connection.request("GET", path, headers={"Accept": "application/geo+json"})
        response = connection.getresponse()
        body = response.read()
        connection.close()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}: {body[:300]!r}")
        returned.append(len(json.loads(body)["features"]))
    return sum(returned) / len(returned)


def markdown(results: dict) -> str:
    lines = [
        f"OGC items, {results['places']:,} places, uvicorn/tipg --workers {results['workers']}, "
        f"{results['duration_s']:.0f} s per cell, medians of {results['repeats']} repeat(s)",
        "",
        "| case | features | c | lean req/s | lean p50 / p95 ms | Django req/s | "
        "Django p50 / p95 | tipg req/s | tipg p50 / p95 | SQL req/s | SQL p50 / p95 | "
        "lean/tipg | load |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]

    def rps(s):
        return f"{s['rps']:.0f}" if s else ""

    def lat(s):
        return f"{s['p50_ms']:.1f} / {s['p95_ms']:.1f}" if s else ""

    for name, case in results["summary"].items():
        for concurrency, kinds in case.items():
            lean, django, tipg, floor = (kinds.get(kind) for kind in KINDS)
            ratio = f"{lean['rps'] / tipg['rps']:.1f}x" if lean and tipg and tipg["rps"] else ""
            loads = [s["loadavg_median"] for s in (lean, django, tipg, floor) if s]
            load = f"{common.median(loads):.1f}" if loads else ""
            lines.append(
                f"| {name} | {results['features'].get(name, 0):.0f} | {concurrency} | "
                f"{rps(lean)} | {lat(lean)} | {rps(django)} | {lat(django)} | "
                f"{rps(tipg)} | {lat(tipg)} | {rps(floor)} | {lat(floor)} | {ratio} | {load} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell")
    parser.add_argument("--repeats", type=int, default=1, help="runs per cell (median)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated client counts")
    parser.add_argument(
        "--cases", default=",".join(name for name, _, _ in CASES), help="comma-separated"
    )
    parser.add_argument(
        "--paths", default="lean,django", help="API paths: lean (LEAN_READS on), django (off)"
    )
    parser.add_argument("--queries", type=int, default=200, help="queries per case")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--warmup", type=float, default=3, help="seconds of warm-up per case")
    parser.add_argument("--skip-floor", action="store_true")
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--tipg-python", help="python of a venv with tipg 1.6.1: compare")
    parser.add_argument("--tipg-port", type=int, default=8766)
    args = parser.parse_args(argv)
    if shutil.which("wrk") is None:
        parser.error("wrk is not installed: apt-get install -y wrk")
    concurrencies = [int(c) for c in args.concurrency.split(",")]
    cases = [c for c in args.cases.split(",") if c]

    common.setup_django()
    import psycopg

    with psycopg.connect(common.pg_dsn()) as conn:
        places = conn.execute(
            "SELECT count(*) FROM locations_location WHERE status = 'approved'"
        ).fetchone()[0]
    queries = generate_queries(args.queries, args.seed)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    workdir = Path(tempfile.mkdtemp(prefix="placemap-bench-ogc-"))
    files: dict[tuple[str, str], Path] = {}
    for case in cases:
        for kind, to_path in (("api", api_path), ("tipg", tipg_path)):
            files[(kind, case)] = workdir / f"{kind}-{case}.txt"
            files[(kind, case)].write_text("\n".join(to_path(q) for q in queries[case]) + "\n")
    statements = {} if args.skip_floor else {c: floor_statements(queries[c]) for c in cases}

    servers: list[tuple[str, object]] = []
    for kind in [p for p in args.paths.split(",") if p]:
        servers.append(
            (
                kind,
                ApiServer(
                    port=args.port,
                    workers=args.workers,
                    log_path=common.RESULTS_DIR / f"uvicorn-ogc-{kind}-{stamp}.log",
                    extra_env={"LEAN_READS": "true" if kind == "lean" else "false"},
                ),
            )
        )
    if args.tipg_python:
        from bench.run_tiles import TipgServer

        servers.append(
            (
                "tipg",
                TipgServer.from_args(args, log_name=f"tipg-ogc-{stamp}.log"),
            )
        )
    raw: dict = {
        case: {str(c): {kind: [] for kind in KINDS} for c in concurrencies} for case in cases
    }
    features: dict[str, float] = {}

    def report(repeat: int, case: str, conc: int, kind: str, result: dict) -> None:
        result["loadavg"] = os.getloadavg()[0]
        raw[case][str(conc)][kind].append(result)
        print(
            f"[{repeat + 1}/{args.repeats}] {case:<19} c={conc} {kind:<6} "
            f"{result['rps']:7.1f} req/s  p50 {result['p50_ms']:7.1f}  "
            f"p95 {result['p95_ms']:7.1f} ms  errors {result['errors']}  "
            f"load {result['loadavg']:.1f}",
            flush=True,
        )

    if statements and args.warmup:
        # Every statement once, so that the first server measured does not pay for
        # reading the boxes' pages from disk and the later ones profit from it.
        with psycopg.connect(common.pg_dsn(), autocommit=True) as conn:
            for case in cases:
                for sql, params in statements[case]:
                    conn.execute(sql, params).fetchall()
    try:
        for repeat in range(args.repeats):
            for kind, server in servers:
                with server as running:  # type: ignore[attr-defined]
                    for case in cases:
                        paths_file = files[("tipg" if kind == "tipg" else "api", case)]
                        if repeat == 0:
                            mean = check(running.port, paths_file.read_text().split())
                            features.setdefault(case, mean)
                            print(f"  {kind} {case}: {mean:.0f} features per answer")
                        if args.warmup:
                            run_wrk(running.base_url, paths_file, 8, args.warmup, 0)
                        for conc in concurrencies:
                            result = run_wrk(
                                running.base_url, paths_file, conc, args.duration, repeat
                            )
                            report(repeat, case, conc, kind, result)
            for case in cases if statements else ():
                for conc in concurrencies:
                    result = run_floor(statements[case], conc, args.duration)
                    report(repeat, case, conc, "floor", result)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    results: dict = {
        "machine": common.machine(),
        "loadavg_at_end": list(os.getloadavg()),
        "places": places,
        "workers": args.workers,
        "duration_s": args.duration,
        "repeats": args.repeats,
        "args": vars(args),
        "features": features,
        "summary": {
            case: {
                conc: {kind: summarize(runs) if runs else None for kind, runs in per.items()}
                for conc, per in per_case.items()
            }
            for case, per_case in raw.items()
        },
        "raw": raw,
    }
    common.write_result("ogc", results, markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
