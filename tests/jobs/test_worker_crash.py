"""A worker killed in the middle of a task (OOM killer, SIGKILL, a lost machine) must not
lose the task: it runs again, to completion. Real worker processes, real Redis."""

import os
import signal
import time

from jobs import services
from jobs.models import DeadLetter
from tests.jobs import worker_tasks
from tests.jobs.conftest import counter
from tests.support import wait_for


def test_a_pool_process_killed_mid_task_has_its_task_run_again_to_completion(start_worker, token):
    worker = start_worker(JOBS_RETRY_DELAY="0")
    services.enqueue(worker_tasks.slow_task, args=(token, 3))
    wait_for(lambda: counter(token, "started") == 1, timeout=30, what="the task to start")
    child_pid = int(worker_tasks.state().get(worker_tasks.key(token, "pid")))
    assert child_pid != worker.process.pid  # the pool child running it, not the main process

    os.kill(child_pid, signal.SIGKILL)

    wait_for(
        lambda: counter(token, "completed") == 1,
        timeout=45,
        what="the task to run again to completion",
        log=worker.log,
    )
    assert counter(token, "started") == 2
    assert not DeadLetter.objects.exists()


def test_a_whole_worker_killed_mid_task_leaves_the_task_to_the_next_worker(start_worker, token):
    # Nothing acknowledged the message: Redis hands it out again once the visibility
    # timeout has passed (short here; 660 s by default, see docs/jobs.md).
    short = {"CELERY_VISIBILITY_TIMEOUT": "2"}
    first = start_worker(**short)
    services.enqueue(worker_tasks.slow_task, args=(token, 3))
    wait_for(lambda: counter(token, "started") == 1, timeout=30, what="the task to start")

    first.kill()
    assert counter(token, "completed") == 0
    time.sleep(2.5)  # past the visibility timeout
    second = start_worker(**short)

    wait_for(
        lambda: counter(token, "completed") == 1,
        timeout=45,
        what="the task to be redelivered and completed",
        log=second.log,
    )
    assert counter(token, "started") == 2


def test_a_task_that_kills_its_worker_every_time_ends_in_the_dead_letter_store(start_worker, token):
    # retry_on_worker_lost counts those deaths as attempts instead of requeueing forever.
    worker = start_worker(JOBS_MAX_ATTEMPTS="2", JOBS_RETRY_DELAY="0")
    services.enqueue(worker_tasks.kill_own_process, args=(token,))

    letter = wait_for(
        lambda: DeadLetter.objects.filter(task_name=worker_tasks.kill_own_process.name).first(),
        timeout=60,
        what="the task to be dead-lettered",
        log=worker.log,
    )
    assert counter(token, "runs") == 2
    assert letter.attempts == 2
    assert letter.exception_type == "billiard.exceptions.WorkerLostError"
    assert letter.args == [token]
    time.sleep(2)  # and it is not run a third time
    assert counter(token, "runs") == 2


def test_a_task_past_its_hard_time_limit_is_killed_and_dead_lettered(start_worker, token):
    worker = start_worker()
    # Celery stamps each message with the sender's time limits (CELERY_TASK_*_TIME_LIMIT
    # of the sending process); short ones here, sent directly rather than via the outbox.
    worker_tasks.overrun_time_limits.apply_async(args=(token,), soft_time_limit=1, time_limit=2)

    letter = wait_for(
        lambda: DeadLetter.objects.filter(task_name=worker_tasks.overrun_time_limits.name).first(),
        timeout=60,
        what="the task to be dead-lettered",
        log=worker.log,
    )
    assert letter.exception_type.endswith("TimeLimitExceeded")
    assert "2" in letter.exception_message
    assert counter(token, "runs") == 1
