#!/usr/bin/env python
"""One 1M-row import under a set of PostgreSQL server settings (issue 17, bulk loads).

    flock /work/notes/bench.lock .venv/bin/python bench/run_server_settings.py \
        FILE --label NAME [--set max_wal_size=8GB --set wal_compression=lz4 ...]

Applies each --set with ALTER SYSTEM + pg_reload_conf() on the cluster at BENCH_PG_HOST/
BENCH_PG_PORT (reloadable settings only: restart-only ones are refused), empties
BENCH_IMPORT_DB and checkpoints, runs `manage.py import_locations FILE --status approved`
under /usr/bin/time -v, then ALTER SYSTEM RESETs every setting it set and reloads again
(in a finally: the cluster is shared). Prints one JSON line: wall, client CPU, WAL bytes
(pg_current_wal_lsn before/after), full-page images and WAL buffer-full writes
(pg_stat_wal), checkpoints (pg_stat_bgwriter), load average before/after; and appends it
to bench/results/server-settings.jsonl.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.run_bulk import IMPORT_DB, manage_env, reset_import_db, timed

RESULTS = common.RESULTS_DIR / "server-settings.jsonl"

STATS = """
SELECT pg_current_wal_lsn()::text,
       (SELECT wal_fpi FROM pg_stat_wal), (SELECT wal_buffers_full FROM pg_stat_wal),
       (SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter)
"""


def _admin():
    import psycopg

    return psycopg.connect(common.pg_dsn("postgres"), autocommit=True)


def apply(settings: dict[str, str]) -> dict[str, str]:
    with _admin() as conn:
        for name, value in settings.items():
            context = conn.execute(
                "SELECT context FROM pg_settings WHERE name = %s", [name]
            ).fetchone()
            if context is None or context[0] == "postmaster":
                raise SystemExit(f"{name}: not a reloadable setting ({context})")
            conn.execute(f"ALTER SYSTEM SET {name} = %s".replace("%s", _literal(value)))
        conn.execute("SELECT pg_reload_conf()")
        time.sleep(1)
        return {
            row[0]: row[1]
            for row in conn.execute(
                "SELECT name, current_setting(name) FROM pg_settings WHERE name = ANY(%s)",
                [
                    [
                        "max_wal_size",
                        "checkpoint_timeout",
                        "wal_compression",
                        "wal_buffers",
                        "shared_buffers",
                        *settings,
                    ]
                ],
            )
        }


def restore(settings: dict[str, str]) -> None:
    with _admin() as conn:
        for name in settings:
            conn.execute(f"ALTER SYSTEM RESET {name}")
        conn.execute("SELECT pg_reload_conf()")


def _literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def stats() -> tuple:
    with _admin() as conn:
        return conn.execute(STATS).fetchone()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--label", required=True)
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE")
    args = parser.parse_args(argv)
    settings = dict(item.split("=", 1) for item in args.set)
    load_before = Path("/proc/loadavg").read_text().split()[0]
    try:
        effective = apply(settings)
        reset_import_db()  # ends with a CHECKPOINT: every run starts from the same state
        before = stats()
        started = time.strftime("%H:%M:%S", time.gmtime())
        result = timed(
            [common.PYTHON, "manage.py", "import_locations", args.file, "--status", "approved"],
            env=manage_env(IMPORT_DB),
            label=f"settings-{args.label}",
        )
        after = stats()
        with _admin() as conn:
            wal_bytes = conn.execute(
                "SELECT pg_wal_lsn_diff(%s, %s)::bigint", [after[0], before[0]]
            ).fetchone()[0]
    finally:
        restore(settings)
    record = {
        "label": args.label,
        "port": common.PG_PORT,
        "utc": started,
        "settings": effective,
        "wall_s": round(result["wall_s"], 1),
        "cpu_s": round(result["cpu_s"], 1),
        "wal_gb": round(wal_bytes / 1e9, 2),
        "wal_fpi": after[1] - before[1],
        "wal_buffers_full": after[2] - before[2],
        "checkpoints": after[3] - before[3],
        "load": [load_before, Path("/proc/loadavg").read_text().split()[0]],
    }
    print(json.dumps(record), flush=True)
    with RESULTS.open("a") as fh:
        fh.write(json.dumps(record) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
