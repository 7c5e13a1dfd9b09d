"""Two moderators deciding on one place at the same moment, in two real threads with
their own connections and transactions."""

import threading
import time

import pytest
from django.db import connection, connections, transaction
from rest_framework.test import APIClient

from locations.models import Location
from moderation.models import ModerationLog
from notifications.models import Notification
from tests.accounts.factories import ModeratorFactory
from tests.locations.factories import LocationFactory

pytestmark = pytest.mark.django_db(transaction=True)

REJECTION = {"status": "rejected", "reason_code": "duplicate", "reason": "Listed twice."}


def decide_at_once(location_id, payloads: list[dict], *, before_go=None) -> list[int]:
    """Each payload is PATCHed by its own moderator in its own thread; the threads are
    released together. Returns the status codes in payload order."""
    moderators = [ModeratorFactory() for _ in payloads]
    barrier = threading.Barrier(len(payloads) + 1)
    codes: list[int | None] = [None] * len(payloads)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        try:
            client = APIClient()
            client.force_authenticate(moderators[index])
            barrier.wait(timeout=10)
            response = client.patch(
                f"/api/v1/admin/locations/{location_id}/status", payloads[index], format="json"
            )
            codes[index] = response.status_code
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(payloads))]
    for thread in threads:
        thread.start()
    barrier.wait(timeout=10)
    if before_go is not None:
        before_go()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return codes


def waiting_on_locks() -> int:
    with connection.cursor() as cursor:
        # Inside a transaction, pg_stat_activity is a snapshot taken at first read.
        cursor.execute("SELECT pg_stat_clear_snapshot()")
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_two_moderators_approving_at_once_one_wins_and_the_other_gets_409():
    location = LocationFactory()

    codes = decide_at_once(location.id, [{"status": "approved"}, {"status": "approved"}])

    assert sorted(codes) == [200, 409]
    assert ModerationLog.objects.filter(location_ref=location.id).count() == 1
    assert Notification.objects.count() == 1
    location.refresh_from_db()
    assert location.status == "approved"


def test_approve_and_reject_of_what_both_saw_pending_cannot_both_succeed():
    location = LocationFactory()

    codes = decide_at_once(
        location.id,
        [
            {"status": "approved", "expected_status": "pending"},
            {**REJECTION, "expected_status": "pending"},
        ],
    )

    assert sorted(codes) == [200, 409]
    log = ModerationLog.objects.get(location_ref=location.id)
    location.refresh_from_db()
    assert location.status == log.to_status
    assert log.from_status == "pending"


def test_decisions_queued_on_the_row_lock_are_judged_on_the_committed_status():
    """Both requests reach the place while a third transaction holds its row: they must
    wait for it, then for each other, and the second one must see the first's result."""
    location = LocationFactory()

    def hold_the_row_until_both_wait():
        with transaction.atomic():
            Location.objects.select_for_update().get(pk=location.pk)
            deadline = time.monotonic() + 10
            while waiting_on_locks() < 2:
                assert time.monotonic() < deadline, "the decisions did not wait on the lock"
                time.sleep(0.05)

    codes = decide_at_once(
        location.id,
        [{"status": "approved"}, {"status": "approved"}],
        before_go=hold_the_row_until_both_wait,
    )

    assert sorted(codes) == [200, 409]
    assert ModerationLog.objects.filter(location_ref=location.id).count() == 1
