#!/usr/bin/env python
"""The lean path's database access: Django's connection in a worker thread against
psycopg's async connection pool, on the same statements at the same concurrency.

    BENCH_DB=placemap_bench .venv/bin/python bench/lean_db_access.py [--seconds 10]

(a) `sync_to_async(run_public_read, thread_sensitive=False)`: Django's psycopg pool
    (DB_POOL_MAX_SIZE connections per process), what config/lean.py uses;
(b) `psycopg_pool.AsyncConnectionPool` (same size), the statement sent the same way
    (SET LOCAL statement_timeout and the query in one simple-protocol message).
Each runs C asyncio tasks in one event loop (one process, like one uvicorn worker) for
the given seconds over the viewport_small and radius statements of bench/run_places.py;
prints req/s and p50/p95 per case, concurrency and way.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common


async def drive(call, statements, concurrency: int, seconds: float) -> dict:
    latencies: list[float] = []
    deadline = time.perf_counter() + seconds
    rng = random.Random(7)

    async def worker() -> None:
        while time.perf_counter() < deadline:
            sql, params = rng.choice(statements)
            started = time.perf_counter()
            await call(sql, params)
            latencies.append((time.perf_counter() - started) * 1000)

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": common.percentile(latencies, 50),
        "p95_ms": common.percentile(latencies, 95),
    }


async def main_async(args) -> None:
    from asgiref.sync import sync_to_async
    from django.conf import settings
    from django.db import connection
    from psycopg import AsyncClientCursor
    from psycopg.types.string import TextLoader
    from psycopg_pool import AsyncConnectionPool

    from bench.run_places import generate_queries
    from bench.selector_sql import statement
    from locations.selectors.sql import run_public_read

    queries = generate_queries(200, 7)
    cases = {
        "viewport_small": [statement("viewport_small", q) for q in queries["viewport_small"]],
        "radius": [statement("radius", q) for q in queries["radius"]],
    }
    size = settings.DB_POOL_MAX_SIZE

    def django_read(sql, params):
        try:
            return run_public_read(sql, params)
        finally:
            connection.close()  # back to Django's pool, as request_finished does

    thread_read = sync_to_async(django_read, thread_sensitive=False)

    timeout_ms = int(settings.PLACES_STATEMENT_TIMEOUT_MS)

    async def configure(conn) -> None:
        conn.adapters.register_loader("json", TextLoader)
        await conn.set_autocommit(True)

    pool = AsyncConnectionPool(
        common.pg_dsn(), min_size=size, max_size=size, configure=configure, open=False
    )
    await pool.open(wait=True)

    async def pool_read(sql, params):
        async with pool.connection() as conn:
            # Client-side binding: one simple-protocol message, as Django's cursor sends.
            cursor = AsyncClientCursor(conn)
            await cursor.execute(f"SET LOCAL statement_timeout = {timeout_ms};\n{sql}", params)
            cursor.nextset()
            return await cursor.fetchone()

    print(f"pool size {size}; load at start {os.getloadavg()[0]:.2f}")
    print("| case | c | way | req/s | p50 ms | p95 ms | load |")
    print("|---|---:|---|---:|---:|---:|---:|")
    for _repeat in range(args.repeats):
        for case, statements in cases.items():
            for concurrency in (1, 8):
                for way, call in (("thread + Django pool", thread_read), ("async pool", pool_read)):
                    await drive(call, statements, concurrency, 1.0)  # warm-up
                    result = await drive(call, statements, concurrency, args.seconds)
                    print(
                        f"| {case} | {concurrency} | {way} | {result['rps']:.0f} "
                        f"| {result['p50_ms']:.1f} | {result['p95_ms']:.1f} "
                        f"| {os.getloadavg()[0]:.1f} |",
                        flush=True,
                    )
    await pool.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args(argv)
    common.setup_django()
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
