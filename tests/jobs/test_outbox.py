import json
import re
import subprocess
import uuid
from datetime import UTC, datetime, timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from jobs import services
from jobs.models import OutboxMessage
from tests.jobs import worker_tasks
from tests.jobs.conftest import counter
from tests.jobs.factories import OutboxMessageFactory
from tests.support import BASE_DIR, broker_key, child_env, wait_for
from tests.support import free_port as closed_port


def queued_task_ids(broker) -> list[str]:
    """Ids of the task messages waiting in the broker's default queue."""
    return [json.loads(raw)["headers"]["id"] for raw in broker.lrange(broker_key("celery"), 0, -1)]


def test_enqueue_publishes_the_task_once_the_transaction_commits(
    db, broker, token, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        message = services.enqueue(worker_tasks.record_run, args=(token,))
        # Inside the transaction nothing has reached the broker yet.
        assert queued_task_ids(broker) == []

    assert len(callbacks) == 1
    message.refresh_from_db()
    assert message.sent_at is not None
    assert message.task_name == "tests.jobs.worker_tasks.record_run"
    assert queued_task_ids(broker) == [str(message.task_id)]


def test_a_rolled_back_transaction_sends_nothing_and_leaves_no_outbox_row(
    transactional_db, broker, token
):
    with pytest.raises(RuntimeError), transaction.atomic():
        services.enqueue(worker_tasks.record_run, args=(token,))
        raise RuntimeError("the caller's work failed")

    assert not OutboxMessage.objects.exists()
    assert queued_task_ids(broker) == []


def test_enqueue_stores_uuids_and_datetimes_as_the_json_a_worker_receives(db, broker):
    place = uuid.uuid4()
    when = datetime(2026, 11, 26, 12, 0, tzinfo=UTC)
    message = services.enqueue(worker_tasks.record_run, args=(place,), kwargs={"at": when})
    message.refresh_from_db()
    assert message.args == [str(place)]
    assert message.kwargs == {"at": "2026-11-26T12:00:00Z"}


def test_enqueue_with_the_broker_unreachable_loses_nothing_and_the_relay_sends_it_later(
    transactional_db, broker, token
):
    # A separate process whose broker is a closed port: what a web process sees when
    # Redis is down at commit time. It must not fail, and must not hang.
    script = (
        "import time\n"
        "from django.db import transaction\n"
        "from jobs.services import enqueue\n"
        "from tests.jobs.worker_tasks import record_run\n"
        "started = time.monotonic()\n"
        "with transaction.atomic():\n"
        f"    enqueue(record_run, args=({token!r},))\n"
        "print(f'committed in {time.monotonic() - started:.3f}s')\n"
    )
    result = subprocess.run(
        [str(BASE_DIR / ".venv/bin/python"), "manage.py", "shell", "-c", script],
        cwd=BASE_DIR,
        env=child_env(TEST_REDIS_URL=f"redis://127.0.0.1:{closed_port()}/0"),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    # The commit (and its failed after-commit send) did not hold the caller long.
    elapsed = float(re.search(r"committed in ([0-9.]+)s", result.stdout).group(1))
    assert elapsed < 3

    message = OutboxMessage.objects.get()
    assert message.sent_at is None
    assert message.send_attempts == 1
    assert "Error" in message.last_error
    assert queued_task_ids(broker) == []

    # Redis is back (this process's broker): the relay sends what was left.
    sent = services.outbox_relay(older_than=timedelta(0))

    assert sent == 1
    message.refresh_from_db()
    assert message.sent_at is not None
    assert queued_task_ids(broker) == [str(message.task_id)]
    assert counter(token, "runs") == 0  # queued, not run: the worker test below runs it


def test_the_relay_leaves_fresh_rows_to_their_after_commit_send(db, broker, token):
    message = OutboxMessageFactory(task_name=worker_tasks.record_run.name, args=[token])

    assert services.outbox_relay(older_than=timedelta(seconds=60)) == 0
    message.refresh_from_db()
    assert message.sent_at is None
    assert queued_task_ids(broker) == []


def test_the_relay_never_sends_a_row_twice(db, broker, token):
    message = OutboxMessageFactory(
        task_name=worker_tasks.record_run.name, args=[token], age=timedelta(minutes=5)
    )

    assert services.outbox_relay(older_than=timedelta(0)) == 1
    assert services.outbox_relay(older_than=timedelta(0)) == 0
    assert services.outbox_message_send(message_id=message.pk) is False
    assert queued_task_ids(broker) == [str(message.task_id)]


def test_a_relayed_task_runs_on_a_real_worker(start_worker, broker, token):
    OutboxMessageFactory(
        task_name=worker_tasks.record_run.name, args=[token], age=timedelta(minutes=1)
    )
    start_worker()

    assert services.outbox_relay() == 1
    wait_for(lambda: counter(token, "runs") == 1, timeout=30, what="the relayed task to run")


def test_old_sent_rows_are_purged_and_unsent_ones_kept(db):
    old = timedelta(days=30)
    sent = OutboxMessageFactory(sent_at=timezone.now() - old)
    unsent = OutboxMessageFactory(age=old)

    assert services.outbox_purge_sent(older_than=timedelta(days=7)) == 1
    assert not OutboxMessage.objects.filter(pk=sent.pk).exists()
    assert OutboxMessage.objects.filter(pk=unsent.pk).exists()
