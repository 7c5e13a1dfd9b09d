"""Moderators decide what they saw (expected_version), decide pending revisions, and
revert to earlier versions (docs/moderation.md, "Versions and revisions")."""

import uuid

import pytest

from locations.models import Location, LocationRevision
from moderation.models import ModerationLog
from notifications.models import Notification
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

API = "/api/v1"
QUEUE = f"{API}/admin/locations"


def status_url(location_id) -> str:
    return f"{API}/admin/locations/{location_id}/status"


def revert_url(location_id) -> str:
    return f"{API}/admin/locations/{location_id}/revert"


def owner_edit(client, place, body):
    response = client.patch(f"{API}/locations/{place.id}", body, format="json")
    assert response.status_code == 200, response.content
    return response.json()["properties"]


@pytest.fixture
def owner_client(submitter):
    from tests.support import authenticated_client

    return authenticated_client(submitter)


# --- expected_version ---------------------------------------------------------------


def test_the_bakery_renamed_between_read_and_approve_is_not_approved(
    moderator_client, owner_client, pending_location
):
    seen = moderator_client.get(QUEUE).json()["results"][0]
    assert seen["version"] == 1
    owner_edit(owner_client, pending_location, {"name": "BUY CHEAP PILLS"})

    response = moderator_client.patch(
        status_url(pending_location.id),
        {"status": "approved", "expected_status": "pending", "expected_version": seen["version"]},
        format="json",
    )

    body = assert_problem(response, 409)
    assert body["current_version"] == 2
    assert "changed since" in body["detail"]
    assert body["type"].endswith("/stale-version")
    pending_location.refresh_from_db()
    assert pending_location.status == "pending"
    assert not ModerationLog.objects.exists()


def test_the_current_version_is_decided(moderator_client, pending_location):
    response = moderator_client.patch(
        status_url(pending_location.id),
        {"status": "approved", "expected_version": 1},
        format="json",
    )

    assert response.status_code == 200
    assert response.json()["version"] == 1
    assert ModerationLog.objects.get().version == 1


@pytest.mark.parametrize("value", [0, -1, "two", 1.5, True])
def test_a_bad_expected_version_is_400(moderator_client, pending_location, value):
    response = moderator_client.patch(
        status_url(pending_location.id),
        {"status": "approved", "expected_version": value},
        format="json",
    )
    assert_problem(response, 400, field="expected_version")


# --- pending revisions in the queue -------------------------------------------------


def test_the_queue_holds_pending_revisions_with_their_diff_oldest_first(
    moderator_client, owner_client, approved_location, pending_location
):
    approved_location.name = "Corner bakery"
    approved_location.save()
    owner_edit(
        owner_client,
        approved_location,
        {"name": "Corner bakery & cafe", "latitude": 52.6, "longitude": 13.5},
    )

    items = moderator_client.get(QUEUE, {"status": "pending"}).json()["results"]

    # The pending place came first (submitted before the revision was proposed).
    assert [item["id"] for item in items] == [str(pending_location.id), str(approved_location.id)]
    assert items[0]["pending_revision"] is None
    item = items[1]
    assert (item["status"], item["version"], item["name"]) == ("approved", 2, "Corner bakery")
    revision = item["pending_revision"]
    assert revision["version"] == 2
    assert revision["author"] == approved_location.submitter.username
    assert revision["changes"]["name"] == {
        "before": "Corner bakery",
        "after": "Corner bakery & cafe",
    }
    assert revision["changes"]["point"]["after"] == {
        "type": "Point",
        "coordinates": [13.5, 52.6],
    }
    assert revision["changes"]["point"]["before"]["type"] == "Point"


def test_the_queue_with_revisions_runs_a_bounded_number_of_queries(
    moderator_client, owner_client, submitter, django_assert_max_num_queries
):
    from tests.locations.factories import LocationFactory

    for _ in range(10):
        place = LocationFactory(submitter=submitter, approved=True)
        owner_edit(owner_client, place, {"description": f"New words for {place.name}"})
        LocationFactory()

    # ... and one statement of the page's likely duplicates.
    with django_assert_max_num_queries(6):
        response = moderator_client.get(QUEUE)

    assert len(response.json()["results"]) == 20


# --- deciding a pending revision ---------------------------------------------------


def test_approving_a_revision_publishes_it_and_tells_the_map(
    moderator_client,
    moderator,
    owner_client,
    approved_location,
    map_feed,
    django_capture_on_commit_callbacks,
):
    from django.contrib.gis.geos import Point

    approved_location.point = Point(13.4, 52.5, srid=4326)
    approved_location.save()
    owner_edit(
        owner_client, approved_location, {"name": "Renamed", "latitude": 52.6, "longitude": 13.5}
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.patch(
            status_url(approved_location.id),
            {"status": "approved", "expected_status": "approved", "expected_version": 2},
            format="json",
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["status"], body["version"]) == ("Renamed", "approved", 3)
    assert body["pending_revision"] is None
    event = map_feed.receive()
    assert event["event"] == "location.updated"
    assert event["feature"]["properties"]["name"] == "Renamed"
    assert event["feature"]["properties"]["version"] == 3
    assert event["previous"] == [13.4, 52.5]
    revision = LocationRevision.objects.get(status="approved")
    assert (revision.version, revision.decided_by) == (3, moderator)
    log = ModerationLog.objects.get()
    assert (log.action, log.revision, log.version) == ("revision_approved", revision, 3)
    assert (log.from_status, log.to_status) == ("approved", "approved")
    notification = Notification.objects.get(event="location.revision_approved")
    assert notification.recipient == approved_location.submitter
    # The public now reads the new content.
    detail = owner_client.get(f"{API}/locations/{approved_location.id}").json()
    assert detail["properties"]["name"] == "Renamed"
    latest = Location.history.filter(id=approved_location.id).latest()
    assert (latest.history_user, latest.name) == (moderator, "Renamed")


def test_rejecting_a_revision_needs_a_reason(moderator_client, owner_client, approved_location):
    owner_edit(owner_client, approved_location, {"name": "Spam name"})

    response = moderator_client.patch(
        status_url(approved_location.id), {"status": "rejected"}, format="json"
    )

    assert_problem(response, 400, field="reason")
    assert LocationRevision.objects.get(location=approved_location).status == "pending"


def test_rejecting_a_revision_keeps_the_place_and_tells_the_owner_why(
    moderator_client, owner_client, approved_location, map_feed, django_capture_on_commit_callbacks
):
    name = approved_location.name
    owner_edit(owner_client, approved_location, {"name": "Spam name"})

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.patch(
            status_url(approved_location.id),
            {
                "status": "rejected",
                "reason_code": "spam",
                "reason": "This is an advert.",
                "expected_version": 2,
            },
            format="json",
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["status"], body["version"]) == (name, "approved", 2)
    assert body["pending_revision"] is None
    assert map_feed.received_nothing()
    revision = LocationRevision.objects.get(location=approved_location, source="edit")
    assert (revision.status, revision.reason_code, revision.reason) == (
        "rejected",
        "spam",
        "This is an advert.",
    )
    assert revision.changes == {"name": {"before": name, "after": "Spam name"}}
    log = ModerationLog.objects.get()
    assert (log.action, log.revision, log.reason_code) == ("revision_rejected", revision, "spam")
    notification = Notification.objects.get(event="location.revision_rejected")
    assert notification.recipient == approved_location.submitter
    assert notification.payload["reason"] == "This is an advert."
    owner_view = owner_client.get(f"{API}/locations/{approved_location.id}").json()
    assert owner_view["properties"]["pending_revision"] is None
    assert owner_view["properties"]["status"] == "approved"


def test_a_revision_replaced_after_the_moderator_read_it_is_refused(
    moderator_client, owner_client, approved_location
):
    owner_edit(owner_client, approved_location, {"name": "First proposal"})
    seen = moderator_client.get(QUEUE).json()["results"][0]["version"]
    owner_edit(owner_client, approved_location, {"name": "Second proposal"})

    response = moderator_client.patch(
        status_url(approved_location.id),
        {"status": "approved", "expected_version": seen},
        format="json",
    )

    assert assert_problem(response, 409)["current_version"] == 3
    approved_location.refresh_from_db()
    assert approved_location.name not in ("First proposal", "Second proposal")


# --- revert ------------------------------------------------------------------------


def test_a_moderator_reverts_to_an_earlier_version(
    moderator_client,
    moderator,
    approved_location,
    map_feed,
    django_capture_on_commit_callbacks,
):
    original = approved_location.name
    moderator_client.patch(
        f"{API}/locations/{approved_location.id}", {"name": "Vandalised"}, format="json"
    )
    first = LocationRevision.objects.create(
        location=approved_location,
        name=original,
        description=approved_location.description,
        category=approved_location.category,
        address=approved_location.address,
        point=approved_location.point,
        base_version=0,
        version=1,
        status="applied",
        source="submit",
    )

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.post(
            revert_url(approved_location.id),
            {"revision": str(first.id), "expected_version": 2},
            format="json",
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["name"], body["version"]) == (original, 3)
    event = map_feed.receive()
    assert event["event"] == "location.updated"
    assert event["feature"]["properties"]["name"] == original
    revision = LocationRevision.objects.get(version=3)
    assert (revision.source, revision.reverted_from, revision.author) == (
        "revert",
        first,
        moderator,
    )
    assert revision.changes == {"name": {"before": "Vandalised", "after": original}}
    log = ModerationLog.objects.get()
    assert (log.action, log.revision, log.version, log.moderator) == (
        "revert",
        revision,
        3,
        moderator,
    )
    latest = Location.history.filter(id=approved_location.id).latest()
    assert (latest.history_user, latest.history_change_reason, latest.name) == (
        moderator,
        "revert",
        original,
    )


def test_reverting_refuses_what_cannot_be_restored(
    moderator_client, owner_client, approved_location, pending_location
):
    owner_edit(owner_client, approved_location, {"name": "Only proposed"})
    proposal = LocationRevision.objects.get(location=approved_location, status="pending")
    other = LocationRevision.objects.create(
        location=pending_location,
        name="Elsewhere",
        category="park",
        point=pending_location.point,
        base_version=0,
        version=1,
        status="applied",
    )

    for revision_id in (proposal.id, other.id, uuid.uuid4()):
        response = moderator_client.post(
            revert_url(approved_location.id), {"revision": str(revision_id)}, format="json"
        )
        assert_problem(response, 400, field="revision")
    assert_problem(
        moderator_client.post(revert_url(approved_location.id), {}, format="json"),
        400,
        field="revision",
    )
    assert not ModerationLog.objects.exists()


def test_reverting_is_for_moderators_only(user_client, approved_location):
    response = user_client.post(
        revert_url(approved_location.id), {"revision": str(uuid.uuid4())}, format="json"
    )
    assert_problem(response, 403)


def test_reverting_an_unknown_place_is_404(moderator_client):
    response = moderator_client.post(
        revert_url(uuid.uuid4()), {"revision": str(uuid.uuid4())}, format="json"
    )
    assert_problem(response, 404)


def test_the_log_lists_revision_decisions(moderator_client, owner_client, approved_location):
    owner_edit(owner_client, approved_location, {"name": "Better name"})
    moderator_client.patch(status_url(approved_location.id), {"status": "approved"}, format="json")

    entries = moderator_client.get(f"{API}/admin/locations/{approved_location.id}/log").json()

    entry = entries["results"][0]
    assert (entry["action"], entry["version"]) == ("revision_approved", 3)
    assert entry["revision_id"] == str(LocationRevision.objects.get(status="approved").id)
