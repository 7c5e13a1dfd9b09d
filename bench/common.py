"""Shared plumbing for the benchmark scripts: the bench database, Django set-up, the
machine description and result files. Standard library and psycopg only, so the
seeder runs without Django settings."""

from __future__ import annotations

import json
import os
import platform
import statistics
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
RESULTS_DIR = BENCH_DIR / "results"
PYTHON = str(ROOT / ".venv" / "bin" / "python")

BENCH_DB = os.environ.get("BENCH_DB", "placemap_bench")
PG_HOST = os.environ.get("BENCH_PG_HOST", "127.0.0.1")
PG_PORT = os.environ.get("BENCH_PG_PORT", "5432")
PG_USER = os.environ.get("BENCH_PG_USER", "placemap")
PG_PASSWORD = os.environ.get("BENCH_PG_PASSWORD", "placemap")
# Redis db 8 is this helper's own; the API under test caches and enqueues there so that
# nothing it writes reaches the dev broker (db 0) or another helper's tests.
BENCH_REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/8")


def pg_dsn(dbname: str = BENCH_DB) -> str:
    return f"host={PG_HOST} port={PG_PORT} user={PG_USER} password={PG_PASSWORD} dbname={dbname}"


def database_url(dbname: str = BENCH_DB) -> str:
    return f"postgis://{PG_USER}:{PG_PASSWORD}@{PG_HOST}:{PG_PORT}/{dbname}"


def ogr_pg(dbname: str = BENCH_DB) -> str:
    return f"PG:host={PG_HOST} port={PG_PORT} user={PG_USER} password={PG_PASSWORD} dbname={dbname}"


def redacted(url: str) -> str:
    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def ensure_database(dbname: str, *, recreate: bool = False) -> None:
    """Create the database with PostGIS (the bench role is a superuser here)."""
    import psycopg

    with psycopg.connect(pg_dsn("postgres"), autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [dbname]).fetchone()
        if exists and recreate:
            if not dbname.startswith("placemap_bench"):
                raise SystemExit(f"refusing to drop {dbname}: not a bench database")
            conn.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')
            exists = None
        if not exists:
            conn.execute(f'CREATE DATABASE "{dbname}"')
    with psycopg.connect(pg_dsn(dbname), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS postgis")


def django_env(dbname: str = BENCH_DB, **extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        DATABASE_URL=database_url(dbname),
        REDIS_URL=BENCH_REDIS_URL,
        CACHE_REDIS_URL=BENCH_REDIS_URL,
        CHANNEL_LAYER_REDIS_URL=BENCH_REDIS_URL,
        THROTTLE_REDIS_URL=BENCH_REDIS_URL,
        CELERY_BROKER_URL=BENCH_REDIS_URL,
        CACHE_KEY_PREFIX="placemap-bench",
        CHANNEL_LAYER_PREFIX="placemap-bench",
    )
    env.update(extra)
    return env


def migrate(dbname: str = BENCH_DB) -> None:
    subprocess.run(
        [PYTHON, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=django_env(dbname),
        check=True,
    )


def setup_django(dbname: str = BENCH_DB) -> None:
    """Import the project's code (selectors, services) against the bench database."""
    for key, value in django_env(dbname).items():
        os.environ[key] = value
    # The local settings log at DEBUG; in the measuring process that would time Pillow's
    # and psycopg's debug logging along with the floor.
    os.environ["LOG_LEVEL"] = "WARNING"
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_kb = 0
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem_kb = int(line.split()[1])
    except OSError:
        pass
    info = {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "ram_gib": round(mem_kb / 1024 / 1024, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "loadavg_at_start": list(os.getloadavg()),
        "utc": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    try:
        import psycopg

        with psycopg.connect(pg_dsn(BENCH_DB)) as conn:
            info["postgresql"] = conn.execute("SHOW server_version").fetchone()[0]
            info["postgis"] = conn.execute("SELECT postgis_lib_version()").fetchone()[0]
            for setting in ("shared_buffers", "work_mem", "max_connections", "jit"):
                info[f"pg_{setting}"] = conn.execute(f"SHOW {setting}").fetchone()[0]
    except Exception as exc:  # the machine block is informative; never fail a run on it
        info["postgresql"] = f"unavailable: {exc.__class__.__name__}"
    return info


def percentile(sorted_values: list[float], pct: float) -> float:
    """Nearest-rank percentile of an already sorted list."""
    if not sorted_values:
        return float("nan")
    rank = max(1, round(pct / 100 * len(sorted_values) + 0.5))
    return sorted_values[min(rank, len(sorted_values)) - 1]


def latency_summary(latencies: list[list[float]], errors: list[int], elapsed: float) -> dict:
    """Requests, errors, req/s and p50/p95/p99 (ms) of a closed-loop run: `latencies`
    holds each client thread's seconds per request."""
    merged = sorted(v for per_thread in latencies for v in per_thread)
    return {
        "requests": len(merged),
        "errors": sum(errors),
        "rps": len(merged) / elapsed,
        "p50_ms": percentile(merged, 50) * 1000,
        "p95_ms": percentile(merged, 95) * 1000,
        "p99_ms": percentile(merged, 99) * 1000,
    }


def median(values: list[float]) -> float:
    values = [v for v in values if v == v]  # drop NaN
    return statistics.median(values) if values else float("nan")


def write_result(kind: str, payload: dict, table: str) -> Path:
    """Store the run as JSON plus its markdown table side by side, and print the table."""
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    path = RESULTS_DIR / f"{kind}-{stamp}.json"
    path.write_text(json.dumps(payload, indent=2, default=str))
    path.with_suffix(".md").write_text(table)
    print()
    print(table)
    return path


def wait_for_http(url: str, timeout: float = 60.0) -> None:
    import urllib.error
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 (loopback)
                if response.status < 500:
                    return
        except (urllib.error.URLError, ConnectionError, TimeoutError):
            pass
        time.sleep(0.3)
    raise SystemExit(f"{url} did not answer within {timeout:.0f} s")
