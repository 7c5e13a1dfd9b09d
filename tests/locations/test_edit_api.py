"""PATCH and DELETE /locations/{id}: who may, what happens to status, the map and storage."""

import uuid

import pytest
from botocore.exceptions import ClientError

from locations.models import Location
from media_store import storage
from media_store.models import Image
from tests.locations.conftest import API
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


def patch(client, place, body):
    return client.patch(f"{API}/locations/{place.id}", body, format="json")


def test_an_owners_edit_of_an_approved_place_is_reviewed_and_the_place_stays_on_the_map(
    user_client, user, place_of, map_feed, django_capture_on_commit_callbacks
):
    # Was: the edit sent the place back to pending and off the map (issue 13 changed it:
    # the edit becomes a pending revision, tests/locations/test_revisions.py).
    place = place_of(user, "approved", lon=13.4, lat=52.5)

    with django_capture_on_commit_callbacks(execute=True):
        response = patch(user_client, place, {"name": "Renamed place"})

    assert response.status_code == 200, response.content
    props = response.json()["properties"]
    assert props["name"] == place.name
    assert props["status"] == "approved"
    assert props["approved_at"] is not None
    assert props["pending_revision"]["changes"]["name"]["after"] == "Renamed place"
    place.refresh_from_db()
    assert place.status == "approved"
    assert map_feed.received_nothing()


def test_a_moderators_edit_keeps_the_place_public_and_tells_the_map(
    moderator_client, user, place_of, map_feed, django_capture_on_commit_callbacks
):
    place = place_of(user, "approved", lon=13.4, lat=52.5)

    with django_capture_on_commit_callbacks(execute=True):
        response = patch(moderator_client, place, {"latitude": 52.6, "longitude": 13.5})

    assert response.status_code == 200
    assert response.json()["properties"]["status"] == "approved"
    event = map_feed.receive()
    assert event["event"] == "location.updated"
    assert event["feature"]["geometry"]["coordinates"] == [13.5, 52.6]
    assert event["previous"] == [13.4, 52.5]


def test_an_edit_that_changes_nothing_keeps_the_place_approved(
    user_client, user, place_of, map_feed, django_capture_on_commit_callbacks
):
    place = place_of(user, "approved", name="Same name")

    with django_capture_on_commit_callbacks(execute=True):
        response = patch(user_client, place, {"name": "  Same name "})

    assert response.json()["properties"]["status"] == "approved"
    assert map_feed.received_nothing()


def test_editing_a_pending_place_tells_the_map_nothing(
    user_client, user, place_of, map_feed, django_capture_on_commit_callbacks
):
    place = place_of(user, "pending")
    with django_capture_on_commit_callbacks(execute=True):
        assert patch(user_client, place, {"description": "Better words"}).status_code == 200
    assert map_feed.received_nothing()


def test_an_owner_editing_a_rejected_place_resubmits_it(user_client, user, place_of):
    place = place_of(user, "rejected")
    response = patch(user_client, place, {"description": "Fixed what was wrong"})
    assert response.json()["properties"]["status"] == "pending"


def test_an_owner_cannot_approve_their_own_place_by_patching_status(user_client, user, place_of):
    place = place_of(user, "pending")

    response = patch(user_client, place, {"status": "approved", "approved_at": "2020-01-01"})

    assert response.status_code == 400
    place.refresh_from_db()
    assert place.status == "pending"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"latitude": 91, "longitude": 0}, "latitude"),
        ({"latitude": 10}, "longitude"),
        ({"longitude": 10}, "latitude"),
        ({"name": "  x "}, "name"),
        ({"category": "nightclub"}, "category"),
        ({"description": "d" * 5001}, "description"),
    ],
)
def test_bad_edits_are_refused_naming_the_field(user_client, user, place_of, body, field):
    place = place_of(user, "approved")

    response = patch(user_client, place, body)

    assert response.status_code == 400
    assert field in response.json()["errors"]
    place.refresh_from_db()
    assert place.status == "approved"


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        ("api_client", "approved", 401),
        ("other_client", "approved", 403),
        ("other_client", "pending", 404),
        ("other_client", "rejected", 404),
        ("user_client", "pending", 200),
        ("moderator_client", "pending", 200),
    ],
)
def test_who_may_edit(request, user, place_of, who, status, expected):
    place = place_of(user, status)
    response = patch(request.getfixturevalue(who), place, {"description": "New words"})
    assert response.status_code == expected


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        ("api_client", "approved", 401),
        ("other_client", "approved", 403),
        ("other_client", "pending", 404),
        ("user_client", "rejected", 204),
        ("moderator_client", "approved", 204),
    ],
)
def test_who_may_delete(request, user, place_of, who, status, expected):
    place = place_of(user, status)
    response = request.getfixturevalue(who).delete(f"{API}/locations/{place.id}")
    assert response.status_code == expected
    assert Location.objects.filter(id=place.id).exists() == (expected != 204)


def test_deleting_an_unknown_place_is_404(user_client):
    assert user_client.delete(f"{API}/locations/{uuid.uuid4()}").status_code == 404


def _put(key: str) -> None:
    storage.s3_client().put_object(Bucket=storage.bucket_name(), Key=key, Body=b"jpeg bytes")


def _exists(key: str) -> bool:
    try:
        storage.s3_client().head_object(Bucket=storage.bucket_name(), Key=key)
    except ClientError:
        return False
    return True


def test_deleting_a_place_removes_its_photos_from_storage_after_commit(
    user_client, user, place_of, map_feed, django_capture_on_commit_callbacks
):
    place = place_of(user, "approved")
    image = ImageFactory(location=place, uploader=user)
    keys = image.storage_keys
    for key in keys:
        _put(key)
    assert all(_exists(key) for key in keys)

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = user_client.delete(f"{API}/locations/{place.id}")
        # Not before the commit: a rollback must not leave rows pointing at nothing.
        assert all(_exists(key) for key in keys)
    for callback in callbacks:
        callback()

    assert response.status_code == 204
    assert not Image.objects.filter(id=image.id).exists()
    assert not any(_exists(key) for key in keys)
    event = map_feed.receive()
    assert (event["event"], event["id"]) == ("location.removed", str(place.id))


def test_deleting_a_pending_place_tells_the_map_nothing(
    user_client, user, place_of, map_feed, django_capture_on_commit_callbacks
):
    place = place_of(user, "pending")
    with django_capture_on_commit_callbacks(execute=True):
        assert user_client.delete(f"{API}/locations/{place.id}").status_code == 204
    assert map_feed.received_nothing()
