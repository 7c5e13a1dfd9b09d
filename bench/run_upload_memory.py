#!/usr/bin/env python
"""Peak memory of the web process under concurrent worst-case photo uploads (issue 11).

    .venv/bin/python bench/run_upload_memory.py [--runs 5] [--concurrency 8] [--kind png-rgba]

Starts one uvicorn process (production settings, one worker, so the process measured is
the one decoding) against its own database (placemap_bench_memory, created and migrated)
and bucket (placemap-bench-memory) on the shared PostgreSQL, Redis (db 8, own key prefix)
and S3 endpoint. Each run resets the server's peak-RSS mark (/proc/PID/clear_refs), reads
its RSS, sends `--concurrency` uploads of the same worst-case file at once (a barrier
releases them together), waits for every answer, then reads the server's VmHWM: peak
extra RSS = VmHWM - RSS before the burst. One unmeasured warm-up burst comes first. The
answer codes are counted (503 = no decode slot in time). Uploads are deleted afterwards.
Per-decode figures without the server: bench/decode_memory.py.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench import common, decode_memory
from bench.run_places import ApiServer
from bench.run_uploads import bench_user_token, delete_uploads

BENCH_DB = "placemap_bench_memory"
BENCH_BUCKET = "placemap-bench-memory"


def proc_status(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024
    raise RuntimeError(f"no {field} for {pid}")


def burst(base_url: str, token: str, data: bytes, concurrency: int, created: list) -> dict:
    import requests

    barrier = threading.Barrier(concurrency)
    statuses: list[int] = []
    latencies: list[float] = []
    retry_after: set[str] = set()

    def one() -> None:
        session = requests.Session()
        session.headers["Authorization"] = f"Token {token}"
        barrier.wait()
        started = time.perf_counter()
        response = session.post(
            f"{base_url}/api/v1/images/upload",
            files={"file": ("worst.png", data, "application/octet-stream")},
            timeout=120,
        )
        latencies.append(time.perf_counter() - started)
        statuses.append(response.status_code)
        if response.status_code == 201:
            created.append(response.json()["id"])
        elif response.status_code == 503:
            retry_after.add(response.headers.get("Retry-After", "missing"))
        else:
            print(f"    answered {response.status_code}: {response.text[:300]}")

    threads = [threading.Thread(target=one) for _ in range(concurrency)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "statuses": {str(code): statuses.count(code) for code in sorted(set(statuses))},
        "retry_after": sorted(retry_after),
        "max_latency_s": max(latencies),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--kind", default="png-rgba", help="a tests.media_store.samples case")
    parser.add_argument("--port", type=int, default=8779)
    parser.add_argument("--label", default="", help="stored with the result (before/after)")
    args = parser.parse_args(argv)

    common.ensure_database(BENCH_DB)
    common.migrate(BENCH_DB)
    os.environ["AWS_STORAGE_BUCKET_NAME"] = BENCH_BUCKET
    common.setup_django(BENCH_DB)
    from django.conf import settings

    from media_store import imaging, storage
    from tests.media_store.samples import worst_case

    storage.ensure_bucket()
    token = bench_user_token()
    data = worst_case(args.kind, settings.IMAGE_MAX_PIXELS)
    machine = common.machine()
    print(f"machine: {machine['nproc']} x {machine['cpu']}, load {machine['loadavg_at_start']}")

    with tempfile.NamedTemporaryFile(suffix=f"-{args.kind}") as sample:
        sample.write(data)
        sample.flush()
        one_decode = decode_memory.measure(sample.name, env=common.django_env(BENCH_DB))
    print(
        f"{args.kind}: {len(data) / 1e3:.0f} kB; one decode alone "
        f"{one_decode['extra_bytes'] / 2**20:.0f} MiB in {one_decode['seconds']:.2f} s"
    )

    stamp = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    created: list[str] = []
    server = ApiServer(
        port=args.port,
        workers=1,
        log_path=common.RESULTS_DIR / f"uvicorn-upload-memory-{stamp}.log",
        extra_env={
            "DATABASE_URL": common.database_url(BENCH_DB),
            "AWS_STORAGE_BUCKET_NAME": BENCH_BUCKET,
            "CACHE_KEY_PREFIX": "placemap-bench-memory",
        },
    )
    runs = []
    with server:
        pid = server.process.pid
        burst(server.base_url, token, data, args.concurrency, created)  # warm-up
        time.sleep(1)
        for run in range(args.runs):
            Path(f"/proc/{pid}/clear_refs").write_text("5")
            before = proc_status(pid, "VmRSS")
            result = burst(server.base_url, token, data, args.concurrency, created)
            result["rss_before_mib"] = before / 2**20
            result["peak_extra_mib"] = (proc_status(pid, "VmHWM") - before) / 2**20
            runs.append(result)
            print(
                f"[{run + 1}/{args.runs}] peak extra {result['peak_extra_mib']:6.0f} MiB "
                f"(RSS before {result['rss_before_mib']:.0f} MiB) {result['statuses']} "
                f"Retry-After {result['retry_after']} slowest {result['max_latency_s']:.1f} s",
                flush=True,
            )
            time.sleep(1)
        deleted = delete_uploads(server.base_url, token, created)

    peaks = [r["peak_extra_mib"] for r in runs]
    slots = getattr(settings, "IMAGE_MAX_CONCURRENT_DECODES", None)
    bound = getattr(imaging, "decode_bytes_bound", None)
    summary = {
        "kind": args.kind,
        "file_bytes": len(data),
        "concurrency": args.concurrency,
        "median_peak_extra_mib": common.median(peaks),
        "max_peak_extra_mib": max(peaks),
        "one_decode_mib": one_decode["extra_bytes"] / 2**20,
        "slots": slots,
        "documented_bound_mib": (bound() / 2**20) if bound else None,
    }
    table = (
        "| label | image | conc | slots | peak extra RSS, median | max | one decode alone "
        "| answers (all runs) |\n|---|---|---:|---:|---:|---:|---:|---|\n"
        f"| {args.label or '-'} | {args.kind} ({len(data) / 1e3:.0f} kB) | {args.concurrency} "
        f"| {slots or '-'} | {summary['median_peak_extra_mib']:.0f} MiB "
        f"| {summary['max_peak_extra_mib']:.0f} MiB | {summary['one_decode_mib']:.0f} MiB "
        f"| {_answers(runs)} |\n"
    )
    path = common.write_result(
        "upload-memory",
        {
            "machine": machine,
            "loadavg_at_end": list(os.getloadavg()),
            "args": vars(args),
            "run_id": str(uuid.uuid4()),
            "summary": summary,
            "runs": runs,
            "uploads": len(created),
            "deleted": deleted,
        },
        table,
    )
    print(f"{len(created)} uploads, {deleted} deleted afterwards; results: {path}")
    return 0


def _answers(runs: list[dict]) -> str:
    totals: dict[str, int] = {}
    for run in runs:
        for code, count in run["statuses"].items():
            totals[code] = totals.get(code, 0) + count
    return ", ".join(f"{count}x {code}" for code, count in sorted(totals.items()))


if __name__ == "__main__":
    raise SystemExit(main())
