from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from jobs import services
from jobs.models import DeadLetter, OutboxMessage
from tests.jobs import worker_tasks
from tests.jobs.conftest import counter
from tests.support import wait_for


@pytest.fixture
def three_attempts(settings):
    settings.JOBS_MAX_ATTEMPTS = 3


@pytest.fixture
def dead_letter(db, token) -> DeadLetter:
    """A real dead letter: a task refusing its input, run through Celery's tracer."""
    worker_tasks.reject_bad_input.apply(args=(token,))
    return DeadLetter.objects.get(task_name=worker_tasks.reject_bad_input.name)


def run_command(*args: str) -> str:
    out = StringIO()
    call_command("dead_letters", *args, stdout=out)
    return out.getvalue()


def test_a_task_that_keeps_failing_lands_in_the_dead_letter_store_with_its_traceback(
    db, token, three_attempts
):
    # apply() runs the task and its retries in this process (countdowns skipped).
    result = worker_tasks.fail_until_fixed.apply(args=(token,))

    assert result.failed()
    assert counter(token, "runs") == 3
    letter = DeadLetter.objects.get()
    assert letter.task_name == "tests.jobs.worker_tasks.fail_until_fixed"
    assert letter.task_id == result.id
    assert letter.args == [token]
    assert letter.kwargs == {}
    assert letter.attempts == 3
    assert letter.exception_type == "builtins.ConnectionError"
    assert letter.exception_message == "the upstream service is unavailable"
    assert "Traceback" in letter.traceback
    assert 'raise ConnectionError("the upstream service is unavailable")' in letter.traceback
    assert letter.first_failed_at < letter.last_failed_at
    assert letter.requeued_at is None


def test_an_error_not_worth_retrying_is_dead_lettered_after_one_attempt(db, token, three_attempts):
    worker_tasks.reject_bad_input.apply(args=(token,))

    assert counter(token, "runs") == 1
    letter = DeadLetter.objects.get()
    assert letter.attempts == 1
    assert letter.exception_type == "builtins.ValueError"
    assert letter.exception_message == f"record {token} is malformed"


def test_calling_a_task_function_directly_raises_and_writes_no_dead_letter(db, token):
    with pytest.raises(ConnectionError):
        worker_tasks.fail_until_fixed(token)

    assert counter(token, "runs") == 1
    assert not DeadLetter.objects.exists()


def test_dead_letters_requeue_runs_a_failed_task_again_once_the_cause_is_fixed(start_worker, token):
    worker = start_worker(JOBS_MAX_ATTEMPTS="3", JOBS_RETRY_BACKOFF_MAX="1")
    services.enqueue(worker_tasks.fail_until_fixed, args=(token,))

    letter = wait_for(
        lambda: DeadLetter.objects.filter(task_name=worker_tasks.fail_until_fixed.name).first(),
        timeout=60,
        what="the task to be dead-lettered",
    )
    assert letter.attempts == 3, worker.log()
    assert counter(token, "runs") == 3
    assert "ConnectionError: the upstream service is unavailable" in letter.traceback
    assert letter.first_failed_at < letter.last_failed_at

    worker_tasks.state().set(worker_tasks.key(token, "fixed"), 1)
    output = run_command("requeue", str(letter.pk))

    assert f"Requeued dead letter {letter.pk}" in output
    wait_for(lambda: counter(token, "done") == 1, timeout=30, what="the requeued task to succeed")
    assert counter(token, "runs") == 4
    letter.refresh_from_db()
    assert letter.requeued_at is not None
    assert DeadLetter.objects.count() == 1  # the rerun did not fail again


def test_list_shows_unresolved_dead_letters_and_all_shows_requeued_ones(dead_letter):
    output = run_command("list")
    assert "tests.jobs.worker_tasks.reject_bad_input" in output
    assert "ValueError" in output

    services.dead_letter_requeue(dead_letter=dead_letter)

    assert "No dead letters." in run_command("list")
    assert "(requeued)" in run_command("list", "--all")


def test_show_prints_arguments_attempts_and_the_traceback(dead_letter, token):
    output = run_command("show", str(dead_letter.pk))

    assert f'["{token}"]' in output
    assert "Attempts:      1" in output
    assert "builtins.ValueError" in output
    assert "Traceback (most recent call last)" in output


def test_show_and_requeue_of_an_unknown_id_fail_clearly(db):
    with pytest.raises(CommandError, match="No dead letter with id 999"):
        run_command("show", "999")
    with pytest.raises(CommandError, match="No dead letter with id 999"):
        run_command("requeue", "999")
    with pytest.raises(CommandError, match="ids or --all"):
        run_command("requeue")


def test_requeue_all_sends_each_unresolved_task_through_the_outbox(
    dead_letter, broker, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        output = run_command("requeue", "--all")

    assert "Requeued 1 task(s)." in output
    message = OutboxMessage.objects.get()
    assert message.task_name == dead_letter.task_name
    assert message.args == dead_letter.args
    assert message.sent_at is not None
    dead_letter.refresh_from_db()
    assert dead_letter.requeued_task_id == message.task_id
    # Nothing left to requeue.
    assert "Requeued 0 task(s)." in run_command("requeue", "--all")


def test_purge_keeps_unresolved_dead_letters_unless_told_all(dead_letter, token):
    worker_tasks.reject_bad_input.apply(args=(token,))
    services.dead_letter_requeue(dead_letter=dead_letter)

    assert "Purged 1 dead letter(s)." in run_command("purge")
    assert DeadLetter.objects.count() == 1
    assert "Purged 1 dead letter(s)." in run_command("purge", "--all")
    assert not DeadLetter.objects.exists()


def test_admin_requeues_and_purges_selected_dead_letters(admin_client, dead_letter):
    url = reverse("admin:jobs_deadletter_changelist")

    response = admin_client.post(
        url, {"action": "requeue_selected", "_selected_action": [dead_letter.pk]}, follow=True
    )
    assert response.status_code == 200
    assert "Requeued 1 task(s)." in response.content.decode()
    dead_letter.refresh_from_db()
    assert dead_letter.requeued_at is not None
    assert OutboxMessage.objects.filter(task_id=dead_letter.requeued_task_id).exists()

    response = admin_client.post(
        url, {"action": "purge_selected", "_selected_action": [dead_letter.pk]}, follow=True
    )
    assert "Purged 1 dead letter(s)." in response.content.decode()
    assert not DeadLetter.objects.exists()


def test_admin_shows_a_dead_letter_read_only(admin_client, dead_letter):
    response = admin_client.get(reverse("admin:jobs_deadletter_change", args=[dead_letter.pk]))

    assert response.status_code == 200
    assert "Traceback" in response.content.decode()
    # Read-only: no form field an operator could edit the record through.
    assert 'name="traceback"' not in response.content.decode()


def test_an_admin_viewer_without_the_requeue_permission_cannot_requeue(client, dead_letter):
    from django.contrib.auth.models import Permission

    from tests.accounts.factories import UserFactory

    viewer = UserFactory(is_staff=True)
    viewer.user_permissions.add(Permission.objects.get(codename="view_deadletter"))
    client.force_login(viewer)
    url = reverse("admin:jobs_deadletter_changelist")

    page = client.get(url)
    response = client.post(
        url, {"action": "requeue_selected", "_selected_action": [dead_letter.pk]}
    )

    assert page.status_code == 200
    assert "requeue_selected" not in page.content.decode()
    assert response.status_code in (200, 302)
    dead_letter.refresh_from_db()
    assert dead_letter.requeued_at is None
    assert not OutboxMessage.objects.exists()
