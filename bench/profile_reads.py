#!/usr/bin/env python
"""Where one anonymous read's time goes: Django's full stack against the lean path.

    BENCH_DB=placemap_bench .venv/bin/python bench/profile_reads.py [--requests 300]

In-process, production settings, against the seeded bench database. For each case
(viewport 0.01 degree box, radius 1 km, a z15 tile) and each path it
1. times whole ASGI requests (config.asgi.application: thread hops included), one at a
   time, with LEAN_READS on and off;
2. meanwhile sums the wall time spent in the functions that do the parts of a request
   (middleware, throttle, fallback copy, validation, DB, JSON, ETag, logging).
Prints one table per case (mean ms per request).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import secrets
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


# (label, module, attribute path): the wall time spent inside these functions, summed
# (inclusive), measured by wrapping them. cProfile is no use here: its per-call overhead
# inflates redis-py's and DRF's many small Python calls ~10x next to the C-level waits.
PARTS = (
    ("SQL round trip (run_public_read_row)", "locations.selectors.sql", "run_public_read_row"),
    (
        "pool checkout (getconn + check)",
        "config.db_backend.base",
        "DatabaseWrapper._checked_checkout",
    ),
    ("pool checkout check (empty query)", "config.db_backend.base", "_round_trip"),
    (
        "connection back to the pool (close)",
        "django.db.backends.base.base",
        "BaseDatabaseWrapper.close",
    ),
    ("throttle (Redis INCR+EXPIRE)", "config.throttling", "_FixedWindow.allow_request"),
    ("fallback copy (Redis SET NX + SET)", "locations.api.fallback", "_remember"),
    ("tile generation read (Redis GET)", "locations.tile_cache", "generation_read"),
    ("tile ETag memo write (Redis SET)", "locations.tile_cache", "etag_remember"),
    ("tile bytes memo read (z <= TILE_MEMO_MAX_ZOOM)", "locations.tile_cache", "tile_remembered"),
    ("tile SQL text (locations_tile_sql)", "locations.selectors.tiles", "locations_tile_sql"),
    ("parameter validation (serializer)", "rest_framework.serializers", "BaseSerializer.is_valid"),
    ("JSON (Link header from the body)", "locations.api.views", "_search_page_links"),
    ("ETag hash", "config.http_cache", "strong_etag"),
    ("compression (gzip)", "config.compression", "compress"),
    (
        "access log line",
        "django_structlog.middlewares.request",
        "RequestMiddleware.handle_response",
    ),
    ("request_started log", "django_structlog.middlewares.request", "RequestMiddleware.prepare"),
    ("view: DRF APIView.dispatch", "rest_framework.views", "APIView.dispatch"),
    ("view: lean drf_read", "config.lean", "drf_read"),
    (
        "handler: get_response (middleware + view)",
        "django.core.handlers.base",
        "BaseHandler.get_response",
    ),
)
SPENT: dict[str, float] = {}


def _wrap(label: str, module_name: str, attribute: str) -> None:
    import functools
    import importlib

    owner = importlib.import_module(module_name)
    *path, name = attribute.split(".")
    for part in path:
        owner = getattr(owner, part)
    original = getattr(owner, name)

    @functools.wraps(original)
    def timed(*args, **kwargs):
        started = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            SPENT[label] = SPENT.get(label, 0.0) + time.perf_counter() - started

    setattr(owner, name, timed)
    # Names imported elsewhere with `from module import name`.
    if not path:
        for other in list(sys.modules.values()):
            if other is not owner and getattr(other, name, None) is original:
                setattr(other, name, timed)


def scope_for(path: str, query: str) -> dict:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": query.encode(),
        "headers": [(b"host", b"127.0.0.1"), (b"accept-encoding", b"gzip")],
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 8100),
    }


async def asgi_call(app, scope: dict) -> int:
    status = 0
    received = False

    async def receive():
        nonlocal received
        if received:
            await asyncio.sleep(3600)
        received = True
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


def cases(rng: random.Random) -> dict[str, list[tuple[str, str]]]:
    from bench.run_places import _near_city
    from bench.run_tiles import sample_tiles

    out: dict[str, list[tuple[str, str]]] = {"viewport_small": [], "radius": [], "tile_z15": []}
    for _ in range(200):
        lon, lat = _near_city(rng)
        bbox = f"{lon - 0.005:.6f},{lat - 0.005:.6f},{lon + 0.005:.6f},{lat + 0.005:.6f}"
        out["viewport_small"].append(("/api/v1/locations/viewport", f"bbox={bbox}"))
        lon, lat = _near_city(rng)
        out["radius"].append(("/api/v1/locations/search", f"lat={lat}&lon={lon}&radius=1000"))
    for z, x, y in sample_tiles(15, 200, 7):
        out["tile_z15"].append((f"/api/v1/tiles/{z}/{x}/{y}.mvt", ""))
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=300)
    parser.add_argument("--cases", default="viewport_small,radius,tile_z15")
    args = parser.parse_args(argv)

    from bench.run_places import server_env

    os.environ.update(
        server_env({"LOG_LEVEL": "INFO"}, settings="config.settings.production")
        | {"SECRET_KEY": secrets.token_urlsafe(48)}
    )
    # The access line is written as in production, to a file nobody reads here.
    sys.stdout = open(os.devnull, "w")  # noqa: SIM115
    real_stdout = sys.__stdout__
    import django

    django.setup()
    from django.conf import settings

    from config.asgi import application

    for label, module_name, attribute in PARTS:
        _wrap(label, module_name, attribute)
    print(f"load at start {os.getloadavg()[0]:.2f}", file=real_stdout)
    rng = random.Random(7)
    for case, requests in cases(rng).items():
        if case not in args.cases.split(","):
            continue
        print(f"\n### {case} ({args.requests} requests, mean ms per request)", file=real_stdout)
        rows: dict[str, dict[str, float]] = {}
        for path_name in ("django", "lean"):
            settings.LEAN_READS = path_name == "lean"
            loop = asyncio.new_event_loop()
            for path, query in requests[:20]:  # warm-up (connections, caches)
                loop.run_until_complete(asgi_call(application, scope_for(path, query)))
            SPENT.clear()
            times = []
            for i in range(args.requests):
                path, query = requests[i % len(requests)]
                started = time.perf_counter()
                loop.run_until_complete(asgi_call(application, scope_for(path, query)))
                times.append((time.perf_counter() - started) * 1000)
            loop.close()
            row = {"whole ASGI request (median)": statistics.median(times)}
            row["whole ASGI request (mean)"] = statistics.fmean(times)
            for label, _module, _attribute in PARTS:
                row[label] = SPENT.get(label, 0.0) * 1000 / args.requests
            rows[path_name] = row
        print("| part (inclusive) | Django | lean |\n|---|---:|---:|", file=real_stdout)
        for label in rows["django"]:
            print(
                f"| {label} | {rows['django'][label]:.2f} | {rows['lean'][label]:.2f} |",
                file=real_stdout,
            )
    print(f"\nload at end {os.getloadavg()[0]:.2f}", file=real_stdout)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
