#!/usr/bin/env python
"""Scale-out on one machine: one web process on the primary, against two web processes
behind HAProxy with a streaming read replica (docs/scaling.md, "Measured").

    .venv/bin/python bench/run_scaling.py [--duration 15] [--repeats 3] [--concurrency 8]

Needs the seeded `placemap_bench` (bench/seed_places.py), `wrk` and `haproxy`
(apt-get install wrk haproxy) and a streaming standby of the cluster on
BENCH_REPLICA_PORT (5433: .ci/replica.sh). Starts and stops everything else itself:

- `one`: one uvicorn process (config.asgi), no replica, wrk straight at it;
- `two`: two uvicorn processes behind HAProxy (leastconn), no replica;
- `two+replica`: the same with DATABASE_REPLICA_URLS naming the standby, so the
  anonymous reads go there.

The same randomized viewport (~250-500 places) and radius (1 km) queries as
bench/run_places.py, the same wrk script, at each concurrency. For every run it records
the transactions each PostgreSQL committed (pg_stat_database.xact_commit on the bench
database: proof of where the reads went) and `uptime`'s load average before and after,
since other people's work shares the machine. Writes bench/results/scaling-*.json and a
markdown table beside it.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common
from bench.run_places import ApiServer, api_path, check_api, generate_queries, run_wrk, summarize

REPLICA_PORT = os.environ.get("BENCH_REPLICA_PORT", "5433")
PORTS = {"lb": 8300, "web1": 8301, "web2": 8302}
SETUPS = ("one", "two", "two+replica")
CASES = ("viewport", "radius")

HAPROXY_CFG = """
global
    maxconn 2000
defaults
    mode http
    timeout connect 2s
    timeout client 30s
    timeout server 30s
frontend placemap
    bind 127.0.0.1:{lb}
    default_backend web
backend web
    balance leastconn
    option httpchk GET /health
{servers}
"""


def load() -> str:
    return Path("/proc/loadavg").read_text().split(" ", 3)[:3].__str__()


def xact_commits(port: str) -> int:
    import psycopg

    dsn = common.pg_dsn("postgres").replace(f"port={common.PG_PORT}", f"port={port}")
    with psycopg.connect(dsn, autocommit=True) as conn:
        return conn.execute(
            "SELECT xact_commit FROM pg_stat_database WHERE datname = %s", [common.BENCH_DB]
        ).fetchone()[0]


class LagSampler:
    """The standby's replay lag as the router measures it (config.db_router.PROBE_SQL),
    every half second while a run lasts: the share of samples within REPLICA_MAX_LAG_S
    tells how much of the run the replica was eligible."""

    def __init__(self, max_lag: float = 10.0):
        self.max_lag = max_lag
        self.samples: list[float] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        import psycopg

        from config.db_router import PROBE_SQL

        dsn = common.pg_dsn("postgres").replace(f"port={common.PG_PORT}", f"port={REPLICA_PORT}")
        with psycopg.connect(dsn, autocommit=True) as conn:
            while not self._stop.wait(0.5):
                in_recovery, caught_up, age = conn.execute(PROBE_SQL).fetchone()
                lag = 0.0 if (not in_recovery or caught_up) else (age or 0.0)
                self.samples.append(round(lag, 2))

    def __enter__(self) -> LagSampler:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)

    def summary(self) -> dict:
        within = sum(1 for lag in self.samples if lag <= self.max_lag)
        return {
            "lag_max_s": max(self.samples, default=0.0),
            "lag_median_s": common.median(self.samples) if self.samples else 0.0,
            "replica_eligible_share": within / len(self.samples) if self.samples else 1.0,
        }


class HAProxy:
    def __init__(self, backends: list[int], log_path: Path):
        servers = "\n".join(
            f"    server web{i} 127.0.0.1:{port} check" for i, port in enumerate(backends, 1)
        )
        self.config = Path(tempfile.mkstemp(prefix="placemap-haproxy-", suffix=".cfg")[1])
        self.config.write_text(HAPROXY_CFG.format(lb=PORTS["lb"], servers=servers))
        self.log_path = log_path
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> HAProxy:
        log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            ["haproxy", "-db", "-f", str(self.config)], stdout=log, stderr=subprocess.STDOUT
        )
        common.wait_for_http(f"http://127.0.0.1:{PORTS['lb']}/health", timeout=30)
        return self

    def __exit__(self, *exc) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=10)
        self.config.unlink(missing_ok=True)


def run_setup(name: str, paths: dict[str, Path], args, logs: Path) -> dict:
    extra = {"DB_POOL_MAX_SIZE": "8"}
    if name == "two+replica":
        replica = common.database_url().replace(f":{common.PG_PORT}/", f":{REPLICA_PORT}/")
        extra["DATABASE_REPLICA_URLS"] = replica
    processes = 1 if name == "one" else 2
    servers = [
        ApiServer(
            port=PORTS[f"web{i}"], workers=1, log_path=logs / f"{name}-web{i}.log", extra_env=extra
        )
        for i in range(1, processes + 1)
    ]
    results: dict = {}
    for server in servers:
        server.__enter__()
    try:
        if processes == 1:
            base_url = servers[0].base_url
            balancer = None
        else:
            balancer = HAProxy([s.port for s in servers], logs / f"{name}-haproxy.log").__enter__()
            base_url = f"http://127.0.0.1:{PORTS['lb']}"
        try:
            for case in CASES:
                lines = paths[case].read_text().splitlines()
                check_api(base_url, lines, sample=20)  # warm-up, and the replica's first verdict
                time.sleep(3)
                for concurrency in args.concurrency:
                    runs = []
                    for repeat in range(args.repeats):
                        before = (load(), xact_commits(common.PG_PORT), xact_commits(REPLICA_PORT))
                        with LagSampler() as lag:
                            run = run_wrk(
                                base_url, paths[case], concurrency, args.duration, seed=repeat
                            )
                        run.update(lag.summary())
                        after = (load(), xact_commits(common.PG_PORT), xact_commits(REPLICA_PORT))
                        run.update(
                            load_before=before[0],
                            load_after=after[0],
                            primary_xacts=after[1] - before[1],
                            replica_xacts=after[2] - before[2],
                        )
                        runs.append(run)
                        print(
                            f"{name:12} {case:9} c={concurrency:<3} {run['rps']:7.1f} req/s "
                            f"p95 {run['p95_ms']:6.1f} ms  errors {run['errors']}  "
                            f"xacts primary {run['primary_xacts']} replica {run['replica_xacts']}  "
                            f"lag max {run['lag_max_s']} s eligible "
                            f"{run['replica_eligible_share']:.0%}  load {after[0]}",
                            flush=True,
                        )
                    results[f"{case}@{concurrency}"] = {**summarize(runs), "all": runs}
        finally:
            if balancer:
                balancer.__exit__(None, None, None)
    finally:
        for server in servers:
            server.__exit__(None, None, None)
    return results


def markdown(results: dict) -> str:
    lines = [
        "| setup | query | c | req/s | p50 ms | p95 ms | reads on primary / replica "
        "| standby lag max (s) | load (1 min) |",
        "|---|---|---:|---:|---:|---:|---|---|---|",
    ]
    for setup, by_case in results["setups"].items():
        for key, found in by_case.items():
            case, concurrency = key.split("@")
            primary = sum(r["primary_xacts"] for r in found["all"])
            replica = sum(r["replica_xacts"] for r in found["all"])
            loads = ", ".join(r["load_after"].split(",")[0].strip("[' ") for r in found["all"])
            lines.append(
                f"| {setup} | {case} | {concurrency} | {found['rps']:.0f} | {found['p50_ms']:.1f} "
                f"| {found['p95_ms']:.1f} | {primary} / {replica} "
                f"| {max(r['lag_max_s'] for r in found['all'])} | {loads} |"
            )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--duration", type=float, default=15)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--concurrency", type=int, nargs="+", default=[8])
    parser.add_argument("--queries", type=int, default=400)
    parser.add_argument("--setups", nargs="+", default=list(SETUPS), choices=SETUPS)
    args = parser.parse_args(argv)

    logs = common.RESULTS_DIR / "scaling-logs"
    logs.mkdir(parents=True, exist_ok=True)
    queries = generate_queries(args.queries, seed=17)
    paths = {}
    for case in CASES:
        path = logs / f"paths-{case}.txt"
        path.write_text("\n".join(api_path(case, params) for params in queries[case]) + "\n")
        paths[case] = path
    results = {
        "machine": common.machine(),
        "args": vars(args),
        "load_at_start": load(),
        "setups": {name: run_setup(name, paths, args, logs) for name in args.setups},
        "load_at_end": load(),
    }
    table = markdown(results)
    common.write_result("scaling", results, table)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
