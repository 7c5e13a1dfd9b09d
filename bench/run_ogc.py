#!/usr/bin/env python
"""Load-test GET /api/v1/ogc/collections/places/items on bbox queries, through the HTTP
API and against its bare SQL.

    BENCH_DB=placemap_bench .venv/bin/python bench/run_ogc.py [--duration 10] [--workers 2]

Needs a seeded bench database (bench/seed_places.py). Starts uvicorn (production
settings, throttles out of the way) like bench/run_places.py, pre-generates bbox queries
around the seeded cities (three box sizes, `limit` 100 and 1000), and for each case and
concurrency drives the API from N keep-alive client threads (Python's http.client: no wrk
needed), then runs the same SQL (locations.selectors.ogc_items_sql) straight against
PostgreSQL from N threads (the floor). Prints req/s and p50/p95/p99 for both; writes
bench/results/ogc-*.json and a markdown table beside it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import random
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.run_places import ApiServer, _bbox_around, _near_city, run_floor

# (name, half the box's height in km, limit): a neighbourhood, a city, a region.
CASES = (
    ("bbox_1km", 1.0, 100),
    ("bbox_5km", 5.0, 100),
    ("bbox_50km", 50.0, 100),
    ("bbox_5km_limit1000", 5.0, 1000),
)
ITEMS = "/api/v1/ogc/collections/places/items"


def generate_queries(count: int, seed: int) -> dict[str, list[dict]]:
    rng = random.Random(seed)
    queries: dict[str, list[dict]] = {}
    for name, half_km, limit in CASES:
        queries[name] = [
            {"bbox": _bbox_around(*_near_city(rng), half_km), "limit": limit} for _ in range(count)
        ]
    return queries


def api_path(query: dict) -> str:
    bbox = ",".join(f"{v:.6f}" for v in query["bbox"])
    return f"{ITEMS}?{urlencode({'bbox': bbox, 'limit': query['limit'], 'f': 'json'})}"


def floor_statements(queries: list[dict]) -> list[tuple[str, dict]]:
    from locations.geo import parse_bbox
    from locations.selectors import ItemsFilter, ogc_items_sql

    return [
        ogc_items_sql(filters=ItemsFilter(bbox=parse_bbox(q["bbox"])), limit=q["limit"])
        for q in queries
    ]


def run_http(port: int, paths: list[str], concurrency: int, duration: float) -> dict:
    """`concurrency` threads, each with one keep-alive connection, requesting random
    paths for `duration` seconds."""
    latencies: list[list[float]] = [[] for _ in range(concurrency)]
    errors = [0] * concurrency
    sizes = [0] * concurrency
    barrier = threading.Barrier(concurrency + 1)
    stop_at = [0.0]

    def worker(slot: int) -> None:
        rng = random.Random(slot)
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        barrier.wait()
        while True:
            path = paths[rng.randrange(len(paths))]
            started = time.perf_counter()
            if started >= stop_at[0]:
                break
            try:
                connection.request("GET", path, headers={"Accept": "application/geo+json"})
                response = connection.getresponse()
                body = response.read()
            except (OSError, http.client.HTTPException):
                errors[slot] += 1
                connection.close()
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
                continue
            if response.status != 200:
                errors[slot] += 1
                continue
            latencies[slot].append(time.perf_counter() - started)
            sizes[slot] += len(body)
        connection.close()

    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(concurrency)]
    for thread in threads:
        thread.start()
    stop_at[0] = time.perf_counter() + duration
    started = time.perf_counter()
    barrier.wait()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    summary = common.latency_summary(latencies, errors, elapsed)
    return {**summary, "mean_bytes": sum(sizes) / max(1, summary["requests"])}


def check(port: int, paths: list[str]) -> float:
    """Every sampled path answers a FeatureCollection; the mean features per answer."""
    returned = []
    for path in paths[:20]:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        connection.request("GET", path)
        response = connection.getresponse()
        body = response.read()
        connection.close()
        if response.status != 200:
            raise SystemExit(f"{path} answered {response.status}: {body[:300]!r}")
        returned.append(json.loads(body)["numberReturned"])
    return sum(returned) / len(returned)


def markdown(results: dict) -> str:
    lines = [
        f"OGC items, {results['places']:,} places, uvicorn --workers {results['workers']}, "
        f"{results['duration_s']:.0f} s per cell",
        "",
        "| case | mean features | c | API req/s | API p50 / p95 / p99 ms | SQL req/s | "
        "SQL p50 / p95 ms | API/SQL |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, case in results["cases"].items():
        for concurrency, run in case["runs"].items():
            api, floor = run["api"], run["floor"]
            lines.append(
                f"| {name} | {case['mean_features']:.0f} | {concurrency} | {api['rps']:.0f} | "
                f"{api['p50_ms']:.1f} / {api['p95_ms']:.1f} / {api['p99_ms']:.1f} | "
                f"{floor['rps']:.0f} | {floor['p50_ms']:.1f} / {floor['p95_ms']:.1f} | "
                f"{api['rps'] / floor['rps']:.2f} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per cell")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes")
    parser.add_argument("--concurrency", default="1,8", help="comma-separated client counts")
    parser.add_argument("--queries", type=int, default=200, help="queries per case")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--port", type=int, default=8765)
    args = parser.parse_args(argv)
    concurrencies = [int(c) for c in args.concurrency.split(",")]

    common.setup_django()
    import psycopg

    with psycopg.connect(common.pg_dsn()) as conn:
        places = conn.execute(
            "SELECT count(*) FROM locations_location WHERE status = 'approved'"
        ).fetchone()[0]
    queries = generate_queries(args.queries, args.seed)
    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    results: dict = {
        "machine": common.machine(),
        "places": places,
        "workers": args.workers,
        "duration_s": args.duration,
        "cases": {},
    }
    log_path = common.RESULTS_DIR / f"uvicorn-ogc-{stamp}.log"
    with ApiServer(port=args.port, workers=args.workers, log_path=log_path):
        for name, case_queries in queries.items():
            paths = [api_path(q) for q in case_queries]
            statements = floor_statements(case_queries)
            case = {"mean_features": check(args.port, paths), "runs": {}}
            for concurrency in concurrencies:
                api = run_http(args.port, paths, concurrency, args.duration)
                floor = run_floor(statements, concurrency, args.duration)
                case["runs"][concurrency] = {"api": api, "floor": floor}
                print(
                    f"{name} c={concurrency}: API {api['rps']:.0f} req/s "
                    f"p95 {api['p95_ms']:.1f} ms; SQL {floor['rps']:.0f} req/s",
                    flush=True,
                )
            results["cases"][name] = case
    common.write_result("ogc", results, markdown(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
