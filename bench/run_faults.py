#!/usr/bin/env python
"""Request latency while PostgreSQL is down and while Redis is paused (docs/operations.md).

    .venv/bin/python bench/run_faults.py [--tree PATH] [--database placemap_faults]

Needs a migrated database with the demo data (`DATABASE_URL=... manage.py migrate` then
`manage.py seed_demo`) on the local PostgreSQL, and `redis-server` on the PATH. It starts
its own Redis (paused with SIGSTOP, never the shared one), a TCP proxy in front of
PostgreSQL (which drops its connections and then accepts and never answers, as a hung
server does), and uvicorn from --tree (another checkout, to compare), then times
sequential requests in each phase. Prints one JSON object: [status, seconds, stale] per
request.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VIEWPORT = "/api/v1/locations/viewport?bbox=-9.5,38.5,-9.0,39.0&limit={limit}"
LOGIN = {"username": "alice", "password": "placemap-alice"}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class StallingProxy:
    """Forwards to PostgreSQL until stall(); then drops every connection and holds new
    ones open without an answer until up()."""

    def __init__(self, upstream_port: int):
        self.upstream_port = upstream_port
        self.stalled = False
        self.sockets: list[socket.socket] = []
        self.server = socket.create_server(("127.0.0.1", 0), backlog=128)
        self.port = self.server.getsockname()[1]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            client, _ = self.server.accept()
            self.sockets.append(client)
            if self.stalled:
                continue
            upstream = socket.create_connection(("127.0.0.1", self.upstream_port))
            self.sockets.append(upstream)
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while (data := src.recv(65536)) and not self.stalled:
                dst.sendall(data)
        except OSError:
            pass

    def stall(self) -> None:
        self.stalled = True
        for sock in self.sockets:
            try:
                sock.shutdown(socket.SHUT_RDWR)
                sock.close()
            except OSError:
                pass
        self.sockets = []

    def up(self) -> None:
        self.stalled = False


def timed(url: str, body: dict | None = None) -> list:
    data = json.dumps(body).encode() if body is not None else None
    headers = {"Content-Type": "application/json"}
    request = urllib.request.Request(url, data=data, headers=headers)  # noqa: S310 (http://127.0.0.1)
    started = time.perf_counter()
    try:
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310
            response.read()
            status, stale = response.status, response.headers.get("X-Cache-Stale")
    except urllib.error.HTTPError as exc:
        exc.read()
        status, stale = exc.code, None
    return [status, round(time.perf_counter() - started, 3), stale]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tree", default=str(ROOT), help="checkout whose code uvicorn runs")
    parser.add_argument("--database", default="placemap_faults")
    args = parser.parse_args()

    proxy = StallingProxy(5432)
    redis_port = free_port()
    redis_server = subprocess.Popen(
        ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", ""],
        stdout=subprocess.DEVNULL,
    )
    port = free_port()
    env = dict(
        os.environ,
        DJANGO_SETTINGS_MODULE="config.settings.local",
        DATABASE_URL=f"postgis://placemap:placemap@127.0.0.1:{proxy.port}/{args.database}",
        REDIS_URL=f"redis://127.0.0.1:{redis_port}/0",
        # Every Redis role on the throwaway Redis, whatever the outer environment says.
        **dict.fromkeys(
            (
                "CACHE_REDIS_URL",
                "CHANNEL_LAYER_REDIS_URL",
                "THROTTLE_REDIS_URL",
                "CELERY_BROKER_URL",
            ),
            f"redis://127.0.0.1:{redis_port}/0",
        ),
        DB_POOL_MAX_SIZE="4",
        OTEL_SDK_DISABLED="true",
        LOG_LEVEL="ERROR",
        THROTTLE_AUTH="1000/minute",
    )
    web = subprocess.Popen(
        [str(ROOT / ".venv/bin/uvicorn"), "config.asgi:application", "--port", str(port)],
        cwd=args.tree,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    cached = base + VIEWPORT.format(limit=5)
    login = base + "/api/v1/auth/token"
    try:
        for _ in range(100):
            try:
                urllib.request.urlopen(base + "/health", timeout=1)  # noqa: S310
                break
            except OSError:
                time.sleep(0.3)
        out: dict = {"warm": [timed(cached), timed(cached), timed(login, LOGIN)]}

        proxy.stall()
        out["pg_down_cached_reads"] = [timed(cached) for _ in range(6)]
        out["pg_down_uncached_reads"] = [
            timed(base + VIEWPORT.format(limit=n)) for n in range(6, 10)
        ]
        out["pg_down_logins"] = [timed(login, LOGIN) for _ in range(3)]
        proxy.up()
        started = time.perf_counter()
        while timed(cached)[::2] != [200, None]:
            time.sleep(0.2)
        out["pg_back_until_fresh_s"] = round(time.perf_counter() - started, 2)

        os.kill(redis_server.pid, signal.SIGSTOP)
        out["redis_paused_reads"] = [timed(cached) for _ in range(6)]
        out["redis_paused_logins"] = [timed(login, LOGIN) for _ in range(3)]
        os.kill(redis_server.pid, signal.SIGCONT)
        print(json.dumps(out))
    finally:
        web.terminate()
        web.wait(10)
        os.kill(redis_server.pid, signal.SIGCONT)
        redis_server.terminate()
        redis_server.wait(10)


if __name__ == "__main__":
    main()
