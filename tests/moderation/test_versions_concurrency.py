"""An owner's edit and a moderator's approval of what they saw, at the same moment, in
two real threads with their own connections and transactions: whichever wins, the
public never gets content the moderator did not see."""

import threading

import pytest
from django.db import connections
from rest_framework.test import APIClient

from locations.models import Location
from tests.accounts.factories import ModeratorFactory
from tests.locations.factories import LocationFactory

pytestmark = pytest.mark.django_db(transaction=True)


def race(requests) -> list[int]:
    """Each (user, method, url, body) runs in its own thread; released together."""
    barrier = threading.Barrier(len(requests))
    codes: list[int | None] = [None] * len(requests)
    errors: list[BaseException] = []

    def worker(index: int) -> None:
        user, method, url, body = requests[index]
        try:
            client = APIClient()
            client.force_authenticate(user)
            barrier.wait(timeout=10)
            codes[index] = getattr(client, method)(url, body, format="json").status_code
        except BaseException as exc:  # surfaced in the main thread below
            errors.append(exc)
        finally:
            connections.close_all()

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(len(requests))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not errors, errors
    return codes


@pytest.mark.parametrize("status", ["pending", "approved"])
def test_an_edit_racing_an_approval_never_publishes_unseen_content(status):
    for attempt in range(5):
        extra = {"approved": True} if status == "approved" else {}
        place = LocationFactory(name=f"Corner bakery {attempt}", **extra)
        if status == "approved":
            # An edit already waiting: the moderator approves the revision they saw (v2).
            client = APIClient()
            client.force_authenticate(place.submitter)
            client.patch(f"/api/v1/locations/{place.id}", {"name": "Seen edit"}, format="json")
        seen = Location.objects.get(pk=place.pk)
        seen_name = "Seen edit" if status == "approved" else seen.name

        owner_code, moderator_code = race(
            [
                (place.submitter, "patch", f"/api/v1/locations/{place.id}", {"name": "PILLS"}),
                (
                    ModeratorFactory(),
                    "patch",
                    f"/api/v1/admin/locations/{place.id}/status",
                    {"status": "approved", "expected_version": seen.version},
                ),
            ]
        )

        assert owner_code == 200
        place.refresh_from_db()
        if moderator_code == 200:
            # Approved first: the published name is the one the moderator saw; the
            # owner's later edit waits as a revision.
            assert place.status == "approved"
            assert place.name == seen_name
        else:
            # The edit came first: the stale approval was refused.
            assert moderator_code == 409
            assert place.name != "PILLS" or place.status == "pending"
        assert not (place.status == "approved" and place.name == "PILLS")
