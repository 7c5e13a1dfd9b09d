"""A dead or stuck worker shows: /ready reports the age of its last heartbeat and the
queue waiting for it, and `manage.py worker_heartbeat` (the worker's own healthcheck)
exits non-zero. Real worker processes, real Redis."""

import pytest
from django.core.management import CommandError, call_command

from jobs import services
from tests.jobs import worker_tasks
from tests.support import wait_for


def worker_check(client) -> tuple[int, dict]:
    response = client.get("/ready")
    return response.status_code, response.json()["checks"]["worker"]


def test_ready_reports_a_live_worker_with_its_heartbeat_age_and_queue_length(
    start_worker, client, settings
):
    settings.WORKER_HEARTBEAT_MAX_AGE = 5
    worker = start_worker(WORKER_HEARTBEAT_INTERVAL="1")

    status, check = wait_for(
        lambda: (lambda r: r if r[1]["status"] == "ok" else None)(worker_check(client)),
        timeout=20,
        what="a fresh heartbeat",
        log=worker.log,
    )
    assert status == 200
    assert check["hostname"].startswith("jobs-test-")
    assert 0 <= check["age_seconds"] <= 5
    assert check["queue_length"] == 0
    call_command("worker_heartbeat")  # exit status 0
    call_command("worker_heartbeat", hostname=check["hostname"])


def test_it_reports_a_dead_worker_and_the_work_piling_up_for_it(
    start_worker, client, settings, token
):
    settings.WORKER_HEARTBEAT_MAX_AGE = 2
    worker = start_worker(WORKER_HEARTBEAT_INTERVAL="1")
    wait_for(lambda: worker_check(client)[1]["status"] == "ok", timeout=20, what="a heartbeat")
    hostname = worker_check(client)[1]["hostname"]

    worker.kill()
    for _ in range(3):
        services.enqueue(worker_tasks.record_run, args=(token,))

    status, check = wait_for(
        lambda: (lambda r: r if r[1]["status"] == "error" else None)(worker_check(client)),
        timeout=20,
        what="the worker to be reported dead",
    )
    # The web still serves: a dead worker is reported, not a reason to leave the balancer.
    assert status == 200
    assert check["error"] == "worker heartbeat too old"
    assert check["age_seconds"] > 2
    assert check["queue_length"] == 3
    with pytest.raises(CommandError, match=r"heartbeat of .* old"):
        call_command("worker_heartbeat", hostname=hostname)


def test_ready_says_when_no_worker_was_ever_seen(db, client):
    response = client.get("/ready")
    check = response.json()["checks"]["worker"]
    assert response.status_code == 200
    assert check["status"] == "error"
    assert check["error"] == "no worker heartbeat recorded"
    with pytest.raises(CommandError, match="No heartbeat"):
        call_command("worker_heartbeat")
