#!/usr/bin/env python
"""Bulk export and import of the seeded places, against GDAL's ogr2ogr.

    .venv/bin/python bench/run_bulk.py [--formats geojson,csv] [--repeats 3]
                                        [--import-repeats 1] [--skip-import]

Export: `manage.py export_locations --format F --output FILE` against placemap_bench
versus `ogr2ogr -f GeoJSON|CSV FILE PG:... -sql "SELECT <the same columns> ... WHERE
status = 'approved'"`. Import: `manage.py import_locations FILE --status approved`
into an empty, migrated `placemap_bench_import` versus `ogr2ogr -f PostgreSQL
PG:...placemap_bench_import FILE -nln bench_import` (COPY into a new table plus a GiST
index; no validation, no full-text vector, no upsert), and the same ogr2ogr appending to
a table shaped like locations_location (same columns, indexes, constraints, foreign keys
and triggers: `ogr2ogr-indexed`, the bare load plus one `INSERT ... SELECT` into that
table). Each run is wrapped in
/usr/bin/time -v for wall time and the peak resident memory of the client process
(PostgreSQL's own backend memory is not included, for either tool).
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.run_places import server_env

# BENCH_IMPORT_DB: a helper's own copy, so two helpers never empty each other's table.
IMPORT_DB = os.environ.get("BENCH_IMPORT_DB", "placemap_bench_import")
WORKDIR = Path(os.environ.get("BENCH_BULK_DIR", tempfile.gettempdir())) / "placemap-bench-bulk"
# The columns the export command writes, for ogr2ogr to read the same data.
OGR_SELECT = (
    "SELECT id, external_id, name, description, category, address, status, created_at, "
    "approved_at, point FROM locations_location WHERE status = 'approved'"
)
OGR_DRIVERS = {"geojson": "GeoJSON", "csv": "CSV"}


def timed(command: list[str], *, env: dict | None = None, label: str) -> dict:
    """Run under /usr/bin/time -v; return wall seconds and peak RSS (MiB)."""
    WORKDIR.mkdir(parents=True, exist_ok=True)
    time_file = WORKDIR / f"{label}.time"
    log_file = WORKDIR / f"{label}.log"
    with log_file.open("wb") as log:
        completed = subprocess.run(
            ["/usr/bin/time", "-v", "-o", str(time_file), *command],
            cwd=common.ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    text = time_file.read_text()
    if completed.returncode != 0:
        tail = log_file.read_text(errors="replace")[-2000:]
        raise SystemExit(f"{label} failed ({completed.returncode}):\n{tail}")
    wall = re.search(r"Elapsed \(wall clock\) time.*: (?:(\d+):)?(\d+):([\d.]+)", text)
    hours, minutes, seconds = wall.groups()
    rss = re.search(r"Maximum resident set size \(kbytes\): (\d+)", text)
    user = re.search(r"User time \(seconds\): ([\d.]+)", text)
    system = re.search(r"System time \(seconds\): ([\d.]+)", text)
    return {
        "wall_s": int(hours or 0) * 3600 + int(minutes) * 60 + float(seconds),
        "peak_rss_mib": int(rss.group(1)) / 1024,
        "cpu_s": float(user.group(1)) + float(system.group(1)),
        "log_tail": log_file.read_text(errors="replace")[-600:],
    }


def manage_env(dbname: str) -> dict:
    # Production settings (DEBUG off: Django would otherwise keep every query's SQL).
    env = server_env()
    env.update(common.django_env(dbname))
    env["DJANGO_SETTINGS_MODULE"] = "config.settings.production"
    return env


def count_features(path: Path, fmt: str) -> int:
    if fmt == "csv":
        with path.open("rb") as fh:
            return sum(1 for _ in fh) - 1  # header; the seeded text has no newlines
    out = subprocess.run(
        ["grep", "-o", '"type" *: *"Feature"', str(path)], capture_output=True, check=False
    )
    return out.stdout.count(b"\n")


def table_rows(dbname: str, table: str) -> int:
    import psycopg

    with psycopg.connect(common.pg_dsn(dbname)) as conn:
        exists = conn.execute("SELECT to_regclass(%s)", [table]).fetchone()[0]
        if not exists:
            return 0
        return conn.execute(f'SELECT count(*) FROM "{table}"').fetchone()[0]


# ogr2ogr into a table shaped like locations_location: the same columns (the generated
# search_vector included), check constraints, indexes (GIN, partial GiST, btrees), foreign
# keys and grid-summary triggers, so that its load does the same index and trigger work
# as ours (without the history and revision rows, which only we write).
LIKE_TABLE = "bench_import_like"
CREATE_LIKE_TABLE = f"""
DROP TABLE IF EXISTS {LIKE_TABLE};
CREATE TABLE {LIKE_TABLE} (LIKE locations_location INCLUDING ALL);
ALTER TABLE {LIKE_TABLE} ALTER updated_at SET DEFAULT now();
ALTER TABLE {LIKE_TABLE} ADD FOREIGN KEY (submitter_id) REFERENCES accounts_user (id)
    DEFERRABLE INITIALLY DEFERRED;
ALTER TABLE {LIKE_TABLE} ADD FOREIGN KEY (merged_into_id) REFERENCES {LIKE_TABLE} (id)
    DEFERRABLE INITIALLY DEFERRED;
CREATE TRIGGER bench_gridcell_insert AFTER INSERT ON {LIKE_TABLE}
    REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION locations_gridcell_fold();
CREATE TRIGGER bench_gridcell_update AFTER UPDATE ON {LIKE_TABLE}
    REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
    FOR EACH STATEMENT EXECUTE FUNCTION locations_gridcell_fold();
"""


def reset_import_db() -> None:
    import psycopg

    with psycopg.connect(common.pg_dsn(IMPORT_DB), autocommit=True) as conn:
        conn.execute("TRUNCATE locations_location CASCADE")
        conn.execute("TRUNCATE locations_historicallocation")
        conn.execute("DROP TABLE IF EXISTS bench_import")
        conn.execute(f"DROP TABLE IF EXISTS {LIKE_TABLE}")
        conn.execute("CHECKPOINT")


def export_runs(fmt: str, repeats: int) -> dict:
    ours_file = WORKDIR / f"export-ours.{fmt}"
    ogr_file = WORKDIR / f"export-ogr.{fmt}"
    runs: dict = {"ours": [], "ogr2ogr": []}
    for repeat in range(repeats):
        ours_file.unlink(missing_ok=True)
        result = timed(
            [
                common.PYTHON,
                "manage.py",
                "export_locations",
                "--format",
                fmt,
                "--output",
                str(ours_file),
                "--no-progress",
            ],
            env=manage_env(common.BENCH_DB),
            label=f"export-ours-{fmt}-{repeat}",
        )
        result["bytes"] = ours_file.stat().st_size
        runs["ours"].append(result)
        print(f"  [{repeat + 1}/{repeats}] export {fmt} ours    {_line(result)}", flush=True)
        ogr_file.unlink(missing_ok=True)
        command = ["ogr2ogr", "-f", OGR_DRIVERS[fmt], str(ogr_file), common.ogr_pg(),
                   "-sql", OGR_SELECT]  # fmt: skip
        if fmt == "csv":
            command += ["-lco", "GEOMETRY=AS_XY"]
        result = timed(command, label=f"export-ogr-{fmt}-{repeat}")
        result["bytes"] = ogr_file.stat().st_size
        runs["ogr2ogr"].append(result)
        print(f"  [{repeat + 1}/{repeats}] export {fmt} ogr2ogr {_line(result)}", flush=True)
    runs["features"] = {
        "ours": count_features(ours_file, fmt),
        "ogr2ogr": count_features(ogr_file, fmt),
    }
    return runs


def import_runs(fmt: str, repeats: int) -> dict:
    source = WORKDIR / f"export-ours.{fmt}"
    runs: dict = {"ours": [], "ogr2ogr": [], "ogr2ogr-indexed": [], "rows": {}}
    for repeat in range(repeats):
        reset_import_db()
        result = timed(
            [
                common.PYTHON,
                "manage.py",
                "import_locations",
                str(source),
                "--format",
                fmt,
                "--status",
                "approved",
            ],
            env=manage_env(IMPORT_DB),
            label=f"import-ours-{fmt}-{repeat}",
        )
        result["rows"] = table_rows(IMPORT_DB, "locations_location")
        runs["ours"].append(result)
        print(f"  [{repeat + 1}/{repeats}] import {fmt} ours    {_line(result)}", flush=True)
        reset_import_db()
        command = [
            "ogr2ogr", "-f", "PostgreSQL", common.ogr_pg(IMPORT_DB), str(source),
            "-nln", "bench_import", "-overwrite", "-lco", "GEOMETRY_NAME=point",
            "-gt", "65536", "--config", "PG_USE_COPY", "YES",
        ]  # fmt: skip
        if fmt == "csv":
            command += ["-oo", "X_POSSIBLE_NAMES=longitude", "-oo", "Y_POSSIBLE_NAMES=latitude",
                        "-a_srs", "EPSG:4326"]  # fmt: skip
        result = timed(command, label=f"import-ogr-{fmt}-{repeat}")
        result["rows"] = table_rows(IMPORT_DB, "bench_import")
        runs["ogr2ogr"].append(result)
        print(f"  [{repeat + 1}/{repeats}] import {fmt} ogr2ogr {_line(result)}", flush=True)
        # Like for like: the rows ogr2ogr just loaded, moved by one set-wise INSERT into
        # a table with locations_location's columns (generated tsvector included),
        # indexes, constraints, foreign keys and grid triggers. (`ogr2ogr -append` into
        # that table used one INSERT per row on GDAL 3.6: round trips, not index work.)
        _create_like_table()
        started = time.perf_counter()
        moved = _move_into_like_table()
        result = dict(result, rows=moved)
        result["wall_s"] += time.perf_counter() - started
        runs["ogr2ogr-indexed"].append(result)
        print(f"  [{repeat + 1}/{repeats}] import {fmt} ogr2ogr+insert {_line(result)}", flush=True)
    reset_import_db()
    return runs


def _create_like_table() -> None:
    import psycopg

    with psycopg.connect(common.pg_dsn(IMPORT_DB), autocommit=True) as conn:
        conn.execute(CREATE_LIKE_TABLE)


def _move_into_like_table() -> int:
    import psycopg

    with psycopg.connect(common.pg_dsn(IMPORT_DB)) as conn:
        moved = conn.execute(
            f"""INSERT INTO {LIKE_TABLE} (id, external_id, name, description, category, address,
                                         point, status, created_at, updated_at, approved_at)
            SELECT id::text::uuid, NULLIF(external_id::text, ''), name,
                   COALESCE(description, ''), category, COALESCE(address, ''), point, status,
                   created_at::text::timestamptz, now(),
                   NULLIF(approved_at::text, '')::timestamptz
            FROM bench_import"""
        ).rowcount
        conn.commit()
    return moved


def _line(result: dict) -> str:
    extra = f"{result['bytes'] / 1e6:.0f} MB" if "bytes" in result else f"{result['rows']:,} rows"
    return (
        f"{result['wall_s']:7.1f} s wall, {result['cpu_s']:7.1f} s CPU, "
        f"peak RSS {result['peak_rss_mib']:6.0f} MiB, {extra}"
    )


def med(runs: list[dict]) -> dict:
    return {
        "wall_s": common.median([r["wall_s"] for r in runs]),
        "cpu_s": common.median([r["cpu_s"] for r in runs]),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in runs),
        "runs": len(runs),
    }


def markdown(summary: dict, places: int) -> str:
    lines = [
        "| operation | tool | wall (median) | CPU | peak RSS | rows/s | output |",
        "|---|---|---:|---:|---:|---:|---|",
    ]
    for key, tools in summary.items():
        for tool, s in tools.items():
            if not isinstance(s, dict) or "wall_s" not in s:
                continue
            lines.append(
                f"| {key} | {tool} | {s['wall_s']:.1f} s ({s['runs']} runs) | "
                f"{s['cpu_s']:.1f} s | {s['peak_rss_mib']:.0f} MiB | "
                f"{places / s['wall_s']:,.0f} | {s.get('note', '')} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--formats", default="geojson,csv")
    parser.add_argument("--repeats", type=int, default=3, help="export runs per tool")
    parser.add_argument("--import-repeats", type=int, default=1, help="import runs per tool")
    parser.add_argument("--skip-export", action="store_true", help="reuse the last export files")
    parser.add_argument("--skip-import", action="store_true")
    args = parser.parse_args(argv)
    formats = [f for f in args.formats.split(",") if f]
    if not shutil.which("ogr2ogr"):
        parser.error("ogr2ogr is missing: apt-get install -y gdal-bin")
    if not Path("/usr/bin/time").exists():
        parser.error("/usr/bin/time is missing: apt-get install -y time")

    machine = common.machine()
    places = table_rows(common.BENCH_DB, "locations_location")
    print(f"machine: {machine['nproc']} x {machine['cpu']}, load {machine['loadavg_at_start']}")
    print(f"{places:,} places in {common.BENCH_DB}; files in {WORKDIR}")
    WORKDIR.mkdir(parents=True, exist_ok=True)

    raw: dict = {}
    summary: dict = {}
    for fmt in formats:
        if not args.skip_export:
            runs = export_runs(fmt, args.repeats)
            raw[f"export {fmt}"] = runs
            summary[f"export {fmt}"] = {
                tool: med(runs[tool])
                | {
                    "note": f"{runs[tool][-1]['bytes'] / 1e6:.0f} MB, "
                    f"{runs['features'][tool]:,} features"
                }
                for tool in ("ours", "ogr2ogr")
            }
    if not args.skip_import:
        common.ensure_database(IMPORT_DB)
        common.migrate(IMPORT_DB)
        for fmt in formats:
            runs = import_runs(fmt, args.import_repeats)
            raw[f"import {fmt}"] = runs
            summary[f"import {fmt}"] = {
                tool: med(runs[tool]) | {"note": f"{runs[tool][-1]['rows']:,} rows loaded"}
                for tool in ("ours", "ogr2ogr", "ogr2ogr-indexed")
            }
    results = {
        "machine": machine,
        "loadavg_at_end": list(os.getloadavg()),
        "places": places,
        "args": vars(args),
        "command": " ".join([".venv/bin/python", "bench/run_bulk.py", *(argv or sys.argv[1:])]),
        "ogr_select": OGR_SELECT,
        "summary": summary,
        "raw": raw,
    }
    table = markdown(summary, places)
    path = common.write_result("bulk", results, table)
    print(f"results: {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
