"""Photos are moderated too (docs/moderation.md "Photos"): visibility by moderation
status, decisions carried with the place, the admin images queue and decisions, object
removal after commit (real S3), the uploader's notification."""

import pytest
from django.conf import settings as django_settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from rest_framework.test import APIClient

from media_store import services as media_services
from media_store import storage
from media_store.models import Image, ImageModeration
from moderation.models import ImageModerationLog
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store import samples
from tests.media_store.factories import ImageFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

API = "/api/v1"
QUEUE = reverse("v1:moderation-images")
REJECTION = {"status": "rejected", "reason_code": "inappropriate", "reason": "A selfie."}


def status_url(image_id) -> str:
    return reverse("v1:moderation-image-status", kwargs={"id": image_id})


def keys_of(image_id) -> set[str]:
    return {obj["Key"] for obj in storage.iter_objects(prefix=f"images/{image_id}/")}


def uploaded(client, **fields) -> Image:
    """A real upload (objects in the S3 endpoint) with its thumbnails made."""
    response = client.post(
        f"{API}/images/upload",
        {"file": SimpleUploadedFile("p.jpg", samples.jpeg(640, 480), "image/jpeg"), **fields},
        format="multipart",
    )
    assert response.status_code == 201, response.content
    image = media_services.image_thumbnails_make(image_id=response.json()["id"]).image
    assert len(keys_of(image.id)) == 1 + len(django_settings.IMAGE_THUMBNAIL_SIZES)
    return image


def detail_image_ids(client, place) -> list[str]:
    response = client.get(f"{API}/locations/{place.id}")
    assert response.status_code == 200
    return [image["id"] for image in response.json()["properties"]["images"]]


# --- visibility -----------------------------------------------------------------------


def test_a_photo_added_to_an_approved_place_is_pending_and_seen_by_uploader_and_moderators(
    user, user_client, other_client, moderator_client
):
    place = LocationFactory(submitter=user, approved=True)
    image = uploaded(user_client, location_id=str(place.id))

    assert Image.objects.get(id=image.id).moderation_status == "pending"
    assert detail_image_ids(APIClient(), place) == []
    assert detail_image_ids(other_client, place) == []
    own = user_client.get(f"{API}/locations/{place.id}").json()["properties"]["images"]
    assert [(i["id"], i["moderation_status"]) for i in own] == [(str(image.id), "pending")]
    assert detail_image_ids(moderator_client, place) == [str(image.id)]
    # The uploader's own list of places shows it too.
    mine = user_client.get(f"{API}/me/locations").json()["features"][0]
    assert [i["id"] for i in mine["properties"]["images"]] == [str(image.id)]


@pytest.mark.parametrize("status", ["pending", "rejected", "hidden"])
def test_the_public_detail_lists_only_approved_photos(status, user, other_client):
    place = LocationFactory(submitter=user, approved=True)
    shown = ImageFactory(location=place, uploader=user)
    ImageFactory(location=place, uploader=user, moderation_status=status)

    assert detail_image_ids(APIClient(), place) == [str(shown.id)]
    assert detail_image_ids(other_client, place) == [str(shown.id)]


def test_a_rejected_photo_is_shown_to_nobody(user, user_client, moderator_client):
    place = LocationFactory(submitter=user, approved=True)
    ImageFactory(location=place, uploader=user, moderation_status="rejected")

    assert detail_image_ids(user_client, place) == []
    assert detail_image_ids(moderator_client, place) == []


# --- decided with the place ------------------------------------------------------------


def test_photos_submitted_with_a_place_are_approved_with_it(
    user, user_client, moderator_client, map_feed, django_capture_on_commit_callbacks
):
    image = ImageFactory(uploader=user, moderation_status="pending")
    created = user_client.post(
        f"{API}/locations",
        {
            "name": "Bakery by the river",
            "category": "shop",
            "latitude": 52.5,
            "longitude": 13.4,
            "image_ids": [str(image.id)],
        },
    )
    assert created.status_code == 201, created.content
    # The submitter sees the photo of their pending place in the 201.
    assert [i["id"] for i in created.json()["properties"]["images"]] == [str(image.id)]
    place_id = created.json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.patch(
            reverse("v1:moderation-location-status", kwargs={"id": place_id}),
            {"status": "approved"},
        )

    assert response.status_code == 200
    image.refresh_from_db()
    assert image.moderation_status == "approved"
    assert image.version == 2
    place = LocationFactory._meta.model.objects.get(id=place_id)
    assert detail_image_ids(APIClient(), place) == [str(image.id)]
    # The live feed's Feature carries the photo approved in the same decision.
    event = map_feed.receive()
    assert event["event"] == "location.approved"
    assert [i["id"] for i in event["feature"]["properties"]["images"]] == [str(image.id)]
    log = ImageModerationLog.objects.get(image_ref=image.id)
    assert (log.from_status, log.to_status, log.location_ref) == ("pending", "approved", place.id)
    # No reason given: the photo's log says why it was decided.
    assert (log.reason_code, log.reason) == ("", "Decided with its place.")


def test_photos_of_a_rejected_place_are_rejected_and_leave_storage_after_commit(
    user, user_client, moderator_client, django_capture_on_commit_callbacks
):
    place = LocationFactory(submitter=user)
    image = uploaded(user_client, location_id=str(place.id))
    already_approved = ImageFactory(location=place, uploader=user)

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.patch(
            reverse("v1:moderation-location-status", kwargs={"id": place.id}),
            {"status": "rejected", "reason_code": "spam", "reason": "An advert."},
        )

    assert response.status_code == 200
    image.refresh_from_db()
    assert image.moderation_status == "rejected"
    assert image.objects_removed_at is not None
    assert keys_of(image.id) == set()
    # Only pending photos are carried along.
    already_approved.refresh_from_db()
    assert already_approved.moderation_status == "approved"
    # The photo's log carries the decision's own reason, as a flag's or a suspension's
    # decision does (moderation.services.places.location_decide).
    log = ImageModerationLog.objects.get(image_ref=image.id)
    assert (log.to_status, log.reason_code, log.reason) == ("rejected", "spam", "An advert.")


# --- the admin images queue -----------------------------------------------------------


def test_the_queue_lists_pending_photos_oldest_first_with_their_place(user, moderator_client):
    place = LocationFactory(submitter=user, approved=True, name="Old mill")
    first = ImageFactory(location=place, uploader=user, moderation_status="pending")
    second = ImageFactory(location=place, uploader=user, moderation_status="pending")
    ImageFactory(location=place, uploader=user)  # approved: not in the pending queue
    ImageFactory(uploader=user, moderation_status="pending")  # unattached: not yet

    body = moderator_client.get(QUEUE).json()

    assert body["count"] == 2
    assert [item["id"] for item in body["results"]] == [str(first.id), str(second.id)]
    item = body["results"][0]
    assert item["moderation_status"] == "pending"
    assert item["version"] == 1
    assert item["uploader"] == user.username
    assert item["thumbnails"] and item["url"]
    assert item["location"]["id"] == str(place.id)
    assert item["location"]["name"] == "Old mill"
    assert item["location"]["status"] == "approved"
    assert item["location"]["point"]["coordinates"] == [place.point.x, place.point.y]


def test_the_queue_filters_by_status_and_pages_strictly(user, moderator_client):
    place = LocationFactory(submitter=user, approved=True)
    hidden = ImageFactory(location=place, uploader=user, moderation_status="hidden")
    for _ in range(3):
        ImageFactory(location=place, uploader=user, moderation_status="pending")

    assert [i["id"] for i in moderator_client.get(f"{QUEUE}?status=hidden").json()["results"]] == [
        str(hidden.id)
    ]
    page = moderator_client.get(f"{QUEUE}?limit=2").json()
    assert len(page["results"]) == 2 and page["next"]
    assert_problem(moderator_client.get(f"{QUEUE}?status=lost"), 400, field="status")
    assert_problem(moderator_client.get(f"{QUEUE}?status="), 400, field="status")
    assert_problem(moderator_client.get(f"{QUEUE}?limit=0"), 400, field="limit")


def test_the_queue_has_no_n_plus_one(user, moderator_client, django_assert_max_num_queries):
    for _ in range(5):
        place = LocationFactory(submitter=user, approved=True)
        ImageFactory(location=place, uploader=user, moderation_status="pending")

    # auth (moderator's groups), count, page, places, the places' photos
    with django_assert_max_num_queries(6):
        assert len(moderator_client.get(QUEUE).json()["results"]) == 5


@pytest.mark.parametrize("who,code", [("anonymous", 401), ("user", 403)])
def test_only_moderators_use_the_images_api(who, code, user_client):
    client = APIClient() if who == "anonymous" else user_client
    image = ImageFactory(moderation_status="pending")
    assert_problem(client.get(QUEUE), code)
    assert_problem(client.patch(status_url(image.id), {"status": "approved"}), code)


# --- decisions ------------------------------------------------------------------------


def test_approving_a_pending_photo_publishes_it_and_logs_it(user, moderator, moderator_client):
    place = LocationFactory(submitter=user, approved=True)
    image = ImageFactory(location=place, uploader=user, moderation_status="pending")

    response = moderator_client.patch(
        status_url(image.id), {"status": "approved", "expected_version": 1}
    )

    assert response.status_code == 200, response.content
    assert response.json()["moderation_status"] == "approved"
    assert response.json()["version"] == 2
    assert detail_image_ids(APIClient(), place) == [str(image.id)]
    log = ImageModerationLog.objects.get(image_ref=image.id)
    assert (log.moderator, log.from_status, log.to_status) == (moderator, "pending", "approved")


def test_a_stale_version_is_409_and_changes_nothing(user, moderator_client):
    place = LocationFactory(submitter=user, approved=True)
    image = ImageFactory(location=place, uploader=user, moderation_status="pending", version=3)

    response = moderator_client.patch(
        status_url(image.id), {"status": "approved", "expected_version": 2}
    )

    assert_problem(response, 409)
    assert "version 3" in response.json()["detail"]
    image.refresh_from_db()
    assert (image.moderation_status, image.version) == ("pending", 3)
    assert not ImageModerationLog.objects.exists()


def test_an_illegal_transition_is_409(user, moderator_client):
    image = ImageFactory(location=LocationFactory(submitter=user, approved=True), uploader=user)

    assert_problem(moderator_client.patch(status_url(image.id), {"status": "approved"}), 409)


def test_a_rejection_needs_a_reason_and_an_unknown_photo_is_404(user, moderator_client):
    image = ImageFactory(location=LocationFactory(submitter=user), moderation_status="pending")

    assert_problem(
        moderator_client.patch(status_url(image.id), {"status": "rejected", "reason_code": "spam"}),
        400,
        field="reason",
    )
    assert_problem(
        moderator_client.patch(status_url(image.id), {"status": "hidden"}), 400, field="status"
    )
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(moderator_client.patch(status_url(missing), {"status": "approved"}), 404)


def test_a_rejected_photo_leaves_storage_after_commit_and_its_uploader_is_told(
    user, user_client, moderator_client, django_capture_on_commit_callbacks
):
    place = LocationFactory(submitter=user, approved=True)
    image = uploaded(user_client, location_id=str(place.id))

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = moderator_client.patch(status_url(image.id), REJECTION)
    assert response.status_code == 200, response.content
    # Not before the commit: a rollback would bring the photo back.
    assert keys_of(image.id) != set()
    for callback in callbacks:
        callback()
    assert keys_of(image.id) == set()

    image.refresh_from_db()
    assert image.moderation_status == "rejected"
    assert image.objects_removed_at is not None
    note = Notification.objects.get(recipient=user, event="image.rejected")
    assert note.payload["reason"] == "A selfie."
    assert note.payload["reason_code"] == "inappropriate"
    # Its files are gone: it cannot be approved again.
    assert_problem(moderator_client.patch(status_url(image.id), {"status": "approved"}), 409)


def test_an_owner_cannot_decide_their_own_photo(user, user_client):
    image = ImageFactory(
        location=LocationFactory(submitter=user, approved=True),
        uploader=user,
        moderation_status="pending",
    )
    assert_problem(user_client.patch(status_url(image.id), {"status": "approved"}), 403)
    assert UserFactory()  # another account changes nothing either
    image.refresh_from_db()
    assert image.moderation_status == ImageModeration.PENDING
