import uuid
from collections.abc import Callable

import pytest

from tests.jobs import worker_tasks
from tests.support import CeleryWorker


@pytest.fixture
def token() -> str:
    return uuid.uuid4().hex


def counter(token: str, name: str) -> int:
    return int(worker_tasks.state().get(worker_tasks.key(token, name)) or 0)


@pytest.fixture
def start_worker(broker, celery_workers) -> Callable[..., CeleryWorker]:
    """Start real workers (prefork, one child) that also know tests.jobs.worker_tasks, on
    the test database and an emptied broker; keyword arguments are environment settings
    (JOBS_MAX_ATTEMPTS="3" ...). Every worker started is stopped at the end."""

    def start(**env: str) -> CeleryWorker:
        return celery_workers(
            env=env,
            hostname=f"jobs-test-{uuid.uuid4().hex[:8]}@%h",
            include=["tests.jobs.worker_tasks"],
            loglevel="info",
        )

    return start
