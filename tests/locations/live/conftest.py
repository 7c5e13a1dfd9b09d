import signal
import subprocess
from collections.abc import Iterator

import pytest
from channels.layers import channel_layers

from tests.support import free_port, port_is_open, stop_process, wait_for


@pytest.fixture
def anyio_backend():
    # Channels runs on asyncio; anyio's pytest plugin drives the async tests.
    return "asyncio"


@pytest.fixture(autouse=True)
def _fresh_channel_layer():
    # Each async test runs on an event loop of its own, and a channel layer keeps asyncio
    # locks and connection pools bound to the loop that first used them: one layer shared
    # by the tests of a worker fails with "Lock ... is bound to a different event loop"
    # (seen under xdist, where the order of tests differs). A fresh layer per test.
    channel_layers.backends.clear()
    yield
    channel_layers.backends.clear()


@pytest.fixture
def throwaway_redis() -> Iterator[subprocess.Popen]:
    """A Redis server of this test's own on a free port (never the shared one), so that it
    can be paused (SIGSTOP) or killed; .port holds its port."""
    port = free_port()
    process = subprocess.Popen(
        [
            "redis-server",
            "--port",
            str(port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.STDOUT,
    )
    process.port = port
    try:
        wait_for(lambda: port_is_open(port), timeout=10, what="the throwaway redis-server")
        yield process
    finally:
        process.send_signal(signal.SIGCONT)
        stop_process(process)
