"""The reads and writes locations offers moderation and the digest: the review queue,
one place under review, the pending digest, the row lock and the status change with
its live-feed event."""

from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from locations import events
from locations.constants import LocationStatus
from locations.models import Location
from locations.models import LocationStatus as ModelsLocationStatus
from locations.selectors import (
    location_exists,
    location_for_review,
    locations_for_review,
    locations_pending_digest,
)
from locations.services import location_lock, location_status_set
from media_store.models import ImageStatus
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


def _aged(location: Location, *, minutes: int) -> Location:
    Location.objects.filter(pk=location.pk).update(
        created_at=timezone.now() - timedelta(minutes=minutes)
    )
    location.refresh_from_db()
    return location


def test_the_status_choices_are_the_same_from_constants_and_models():
    assert ModelsLocationStatus is LocationStatus
    assert LocationStatus.values == ["pending", "approved", "rejected", "hidden", "merged"]


def test_the_event_names_are_the_ones_notifications_and_maps_receive():
    assert (
        events.LOCATION_SUBMITTED,
        events.LOCATION_APPROVED,
        events.LOCATION_UPDATED,
        events.LOCATION_REMOVED,
        events.LOCATION_REJECTED,
    ) == (
        "location.submitted",
        "location.approved",
        "location.updated",
        "location.removed",
        "location.rejected",
    )
    assert {"location.approved", "location.updated", "location.removed"} == events.FEED_EVENTS


def test_the_review_queue_lists_one_status_oldest_first_with_ready_photos_only():
    newer = _aged(LocationFactory(), minutes=1)
    older = _aged(LocationFactory(), minutes=10)
    LocationFactory(approved=True)
    ready = ImageFactory(location=older, uploader=older.submitter)
    ImageFactory(location=older, uploader=older.submitter, status=ImageStatus.PROCESSING)

    submitters = [older.submitter.username, newer.submitter.username]

    with CaptureQueriesContext(connection) as queries:
        queue = list(locations_for_review(status=LocationStatus.PENDING))
        assert [place.submitter.username for place in queue] == submitters
        assert [image.id for image in queue[0].images.all()] == [ready.id]
    # The places with their submitters, then one query for all their photos and one for
    # their pending revisions.
    assert len(queries) == 3
    assert [place.id for place in queue] == [older.id, newer.id]


def test_the_review_queue_defaults_to_pending_places():
    pending = LocationFactory()
    LocationFactory(status=LocationStatus.REJECTED)
    assert [place.id for place in locations_for_review()] == [pending.id]


def test_one_place_under_review_is_found_in_any_status_and_an_unknown_one_raises():
    rejected = LocationFactory(status=LocationStatus.REJECTED)
    assert location_for_review(location_id=rejected.id).status == "rejected"
    assert location_exists(location_id=rejected.id)

    rejected_id = rejected.id
    rejected.delete()
    with pytest.raises(Location.DoesNotExist):
        location_for_review(location_id=rejected_id)
    assert not location_exists(location_id=rejected_id)


def test_the_digest_counts_every_pending_place_and_lists_the_oldest_first():
    oldest = _aged(LocationFactory(name="Old bench", category="cafe"), minutes=30)
    _aged(LocationFactory(), minutes=20)
    _aged(LocationFactory(), minutes=10)
    LocationFactory(approved=True)

    count, places = locations_pending_digest(limit=2)

    assert count == 3
    assert len(places) == 2
    assert places[0] == {
        "location_id": str(oldest.id),
        "location_name": "Old bench",
        "category": "Café",
        "category_labels": {"en": "Café", "de": "Café", "fr": "Café"},
        "submitted_at": oldest.created_at.isoformat(),
    }


def test_locking_an_unknown_place_raises_does_not_exist():
    place = LocationFactory()
    place_id = place.id
    place.delete()
    with transaction.atomic(), pytest.raises(Location.DoesNotExist):
        location_lock(location_id=place_id)


def test_approving_stamps_the_time_and_shows_the_place_on_open_maps(
    map_feed, django_capture_on_commit_callbacks
):
    place = LocationFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        locked = location_lock(location_id=place.id)
        location_status_set(location=locked, status=LocationStatus.APPROVED)

    place.refresh_from_db()
    assert place.status == "approved"
    assert place.approved_at is not None
    message = map_feed.receive()
    assert (message["event"], message["id"]) == ("location.approved", str(place.id))
    assert message["feature"]["properties"]["status"] == "approved"


def test_taking_an_approved_place_down_removes_it_from_open_maps(
    map_feed, django_capture_on_commit_callbacks
):
    place = LocationFactory(approved=True)
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        location_status_set(
            location=location_lock(location_id=place.id), status=LocationStatus.REJECTED
        )

    place.refresh_from_db()
    assert (place.status, place.approved_at) == ("rejected", None)
    message = map_feed.receive()
    assert (message["event"], message["id"], message["feature"]) == (
        "location.removed",
        str(place.id),
        None,
    )


def test_rejecting_a_pending_place_tells_no_map(map_feed, django_capture_on_commit_callbacks):
    place = LocationFactory()
    with django_capture_on_commit_callbacks(execute=True), transaction.atomic():
        location_status_set(
            location=location_lock(location_id=place.id), status=LocationStatus.REJECTED
        )
    place.refresh_from_db()
    assert place.status == "rejected"
    assert map_feed.received_nothing()
