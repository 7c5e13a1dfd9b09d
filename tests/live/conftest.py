import pytest


@pytest.fixture
def anyio_backend():
    # Channels runs on asyncio; anyio's pytest plugin drives the async tests.
    return "asyncio"
