"""Peak memory of one photo decode, measured in a fresh process.

    .venv/bin/python bench/decode_memory.py FILE [FILE...]

Each file runs through media_store.imaging.optimize in its own new Python process (so
nothing another decode left in the allocator blurs the figure); the process resets its
peak-RSS mark (/proc/self/clear_refs) just before the call and reports VmHWM minus the
RSS it had then: the extra resident memory that one decode needed. Used by the tests
(tests/media_store/test_decode_memory.py) and bench/run_upload_memory.py.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

_PROBE = """
import json, os, sys, time
import django
django.setup()
from media_store import imaging

def status(field):
    for line in open("/proc/self/status"):
        if line.startswith(field + ":"):
            return int(line.split()[1]) * 1024

data = open(sys.argv[1], "rb").read()
imaging.open_image(data).close()  # imports the decoder plugin outside the measurement
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")  # reset VmHWM to the current RSS
before = status("VmRSS")
started = time.perf_counter()
result = imaging.optimize(data)
seconds = time.perf_counter() - started
print(json.dumps({
    "extra_bytes": status("VmHWM") - before,
    "seconds": seconds,
    "width": result.width,
    "height": result.height,
    "format": result.format,
}))
"""


_RETAINED_PROBE = """
import json, sys, threading
import django
django.setup()
from media_store import imaging

def rss():
    for line in open("/proc/self/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024

data = open(sys.argv[1], "rb").read()
imaging.open_image(data).close()
before = rss()
for _ in range(int(sys.argv[3])):
    threads = [
        threading.Thread(target=imaging.optimize, args=(data,)) for _ in range(int(sys.argv[2]))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
print(json.dumps({"retained_bytes": rss() - before}))
"""


def _run(probe: str, args: list[str], env: dict | None) -> dict:
    child_env = dict(os.environ if env is None else env)
    child_env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.test")
    completed = subprocess.run(
        [sys.executable, "-c", probe, *args],
        cwd=ROOT,
        env=child_env,
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    return json.loads(completed.stdout.strip().splitlines()[-1])


def retained(path: str | Path, *, threads: int = 2, rounds: int = 2, env=None) -> dict:
    """RSS a new process keeps after `rounds` of `threads` concurrent decodes of `path`
    have finished: memory the allocator did not give back ({retained_bytes})."""
    return _run(_RETAINED_PROBE, [str(path), str(threads), str(rounds)], env)


def measure(path: str | Path, *, env: dict | None = None) -> dict:
    """Run one decode of `path` in a new process; returns {extra_bytes, seconds, ...}."""
    return _run(_PROBE, [str(path)], env)


def main(argv: list[str]) -> int:
    for path in argv:
        result = measure(path)
        print(
            f"{Path(path).name:28} {result['extra_bytes'] / 2**20:7.1f} MiB "
            f"{result['seconds']:6.2f} s -> {result['width']}x{result['height']}"
        )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
