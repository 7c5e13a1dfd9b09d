#!/usr/bin/env python
"""Where the time of one import goes: each SQL statement timed, the rest (parse, clean,
COPY) is the Python side.

    .venv/bin/python bench/import_phases.py FILE [--status approved] [--dry-run]
                                             [--batch-size N] [--keep]

Runs `locations.imports.locations_import` in-process against `placemap_bench_import`
(migrated; emptied first unless --keep), and prints the wall time of every statement
kind, the client CPU time and the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common

# BENCH_IMPORT_DB: a helper's own copy, so two helpers never empty each other's table.
IMPORT_DB = os.environ.get("BENCH_IMPORT_DB", "placemap_bench_import")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--status", default="approved")
    parser.add_argument("--dry-run", action="store_true")
    parser.add_argument("--batch-size", type=int, default=None)
    parser.add_argument("--keep", action="store_true", help="do not empty the table first")
    args = parser.parse_args(argv)
    os.environ["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    os.environ.setdefault("SECRET_KEY", "bench-" + "x" * 50)
    os.environ.setdefault("ALLOWED_HOSTS", "127.0.0.1")
    # As manage.py does for its commands: no client-side deadline per statement (a web
    # process's 15 s cut the 1M-row import's deferred foreign-key checks at load ~3).
    os.environ["DB_QUERY_DEADLINE"] = "0"
    common.setup_django(IMPORT_DB)
    from django.db import connection
    from opentelemetry import trace
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

    spans = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(spans))
    trace.set_tracer_provider(provider)

    from locations import imports

    if not args.keep:
        with connection.cursor() as cursor:
            cursor.execute("TRUNCATE locations_location CASCADE")
            cursor.execute("TRUNCATE locations_historicallocation")
            cursor.execute("CHECKPOINT")
    spent: dict[str, float] = defaultdict(float)
    counts: dict[str, int] = defaultdict(int)

    def timer(execute, sql, params, many, context):
        started = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            key = " ".join(sql.split())[:60]
            spent[key] += time.perf_counter() - started
            counts[key] += 1

    load = os.getloadavg()
    cpu0, wall0 = time.process_time(), time.perf_counter()
    with connection.execute_wrapper(timer):
        report = imports.locations_import(
            path=args.file, status=args.status, dry_run=args.dry_run, batch_size=args.batch_size
        )
    wall, cpu = time.perf_counter() - wall0, time.process_time() - cpu0
    print(report.summary())
    print(f"load average at start {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, "
          f"at end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")  # fmt: skip
    print(f"total {wall:.1f} s wall, {cpu:.1f} s client CPU")
    for span in spans.get_finished_spans():
        if span.name.startswith("placemap.import."):
            print(f"  span {span.name}: {(span.end_time - span.start_time) / 1e9:.1f} s")
    statements = sum(spent.values())
    print(f"  outside timed statements (parse, clean, COPY, commit): {wall - statements:.1f} s")
    for key, seconds in sorted(spent.items(), key=lambda kv: -kv[1]):
        print(f"  {seconds:7.2f} s  x{counts[key]:<5} {key}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
