"""Suspending abusive accounts (docs/moderation.md "Suspension"): the API and command,
every write endpoint refused with the reason and end date, reads still served, pending
content rejected (reversibly), expiry by the clock, lifting."""

import uuid
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import CommandError, call_command
from django.urls import reverse
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import Suspension
from config.timestamps import utc_timestamp
from media_store import storage
from moderation.models import ImageModerationLog, ModerationLog
from notifications.models import Notification
from tests.accounts.factories import ModeratorFactory, UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store import samples
from tests.media_store.factories import ImageFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

API = "/api/v1"


def suspend_url(username) -> str:
    return reverse("v1:moderation-user-suspend", kwargs={"username": username})


def unsuspend_url(username) -> str:
    return reverse("v1:moderation-user-unsuspend", kwargs={"username": username})


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


# --- the API ----------------------------------------------------------------------------


def test_a_moderator_suspends_with_a_reason_and_an_end_date(user, moderator, moderator_client):
    until = timezone.now() + timedelta(days=7)

    response = moderator_client.post(
        suspend_url(user.username), {"reason": "Posting adverts.", "until": until.isoformat()}
    )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["username"] == user.username
    assert body["reason"] == "Posting adverts."
    assert body["created_by"] == moderator.username
    assert body["lifted_at"] is None
    assert (body["places_rejected"], body["images_rejected"]) == (0, 0)
    stored = Suspension.objects.get(user=user)
    assert stored.until == until.replace(microsecond=stored.until.microsecond)


def test_suspension_input_is_checked(user, moderator, moderator_client):
    assert_problem(moderator_client.post(suspend_url(user.username), {}), 400, field="reason")
    past = (timezone.now() - timedelta(days=1)).isoformat()
    assert_problem(
        moderator_client.post(suspend_url(user.username), {"reason": "x", "until": past}),
        400,
        field="until",
    )
    assert_problem(moderator_client.post(suspend_url("nobody-here"), {"reason": "x"}), 404)
    # Nobody suspends themselves (no one could lift it from that account).
    assert_problem(moderator_client.post(suspend_url(moderator.username), {"reason": "x"}), 400)
    assert moderator_client.post(suspend_url(user.username), {"reason": "x"}).status_code == 200
    # Already suspended: lift it first.
    assert_problem(moderator_client.post(suspend_url(user.username), {"reason": "y"}), 409)


@pytest.mark.parametrize("who,code", [("anonymous", 401), ("user", 403)])
def test_only_moderators_suspend(who, code, other_user, user_client):
    client = APIClient() if who == "anonymous" else user_client
    assert_problem(client.post(suspend_url(other_user.username), {"reason": "x"}), code)
    assert_problem(client.post(unsuspend_url(other_user.username)), code)
    assert not Suspension.objects.exists()


def test_unsuspending_lifts_it_and_writes_work_again(
    user, user_client, moderator, moderator_client
):
    moderator_client.post(suspend_url(user.username), {"reason": "Spam."})
    assert_problem(user_client.post(f"{API}/locations", PLACE), 403)

    response = moderator_client.post(unsuspend_url(user.username))

    assert response.status_code == 200, response.content
    assert response.json()["lifted_by"] == moderator.username
    assert response.json()["lifted_at"] is not None
    assert user_client.post(f"{API}/locations", PLACE).status_code == 201
    # Nothing left to lift.
    assert_problem(moderator_client.post(unsuspend_url(user.username)), 409)


# --- writes refused, reads served ------------------------------------------------------

PLACE = {"name": "A new bakery", "category": "shop", "latitude": 52.5, "longitude": 13.4}


@pytest.fixture
def suspended(user, moderator):
    from moderation.services import user_suspend

    until = timezone.now() + timedelta(days=3)
    user_suspend(username=user.username, moderator=moderator, reason="Repeated spam.", until=until)
    return until


def write_requests(user, moderator):
    """Every write endpoint of the API a suspended account may reach, as (name, call)."""
    own = LocationFactory(submitter=user, approved=True)
    public = LocationFactory(approved=True)
    own_image = ImageFactory(uploader=user, location=own)
    public_image = ImageFactory(location=public)
    upload = {"file": SimpleUploadedFile("p.jpg", samples.jpeg(64, 64), "image/jpeg")}
    return [
        ("submit", lambda c: c.post(f"{API}/locations", PLACE)),
        ("edit", lambda c: c.patch(f"{API}/locations/{own.id}", {"name": "Renamed"})),
        ("delete place", lambda c: c.delete(f"{API}/locations/{own.id}")),
        ("upload", lambda c: c.post(f"{API}/images/upload", upload, format="multipart")),
        ("delete photo", lambda c: c.delete(f"{API}/images/{own_image.id}")),
        ("flag place", lambda c: c.post(f"{API}/locations/{public.id}/flags", {"reason": "spam"})),
        (
            "flag photo",
            lambda c: c.post(f"{API}/images/{public_image.id}/flags", {"reason": "spam"}),
        ),
    ]


def test_every_write_is_403_with_the_reason_and_end_date(user, user_client, moderator, suspended):
    for name, call in write_requests(user, moderator):
        response = call(user_client)
        assert_problem(response, 403)
        body = response.json()
        assert body["type"].endswith("/account-suspended"), name
        assert "Repeated spam." in body["detail"], name
        assert utc_timestamp(suspended) in body["detail"], name
    assert Suspension.objects.get(user=user).lifted_at is None


def test_a_suspended_moderators_decisions_are_refused(user, moderator, moderator_client):
    from moderation.services import user_suspend

    other_moderator = ModeratorFactory()
    user_suspend(username=moderator.username, moderator=other_moderator, reason="Rogue.")
    place = LocationFactory()
    image = ImageFactory(location=LocationFactory(approved=True), moderation_status="pending")
    calls = [
        moderator_client.patch(
            reverse("v1:moderation-location-status", kwargs={"id": place.id}),
            {"status": "approved"},
        ),
        moderator_client.patch(
            reverse("v1:moderation-image-status", kwargs={"id": image.id}), {"status": "approved"}
        ),
        moderator_client.patch(
            reverse("v1:moderation-flag", kwargs={"id": 1}), {"resolution": "dismissed"}
        ),
        moderator_client.post(suspend_url(user.username), {"reason": "x"}),
        moderator_client.post(unsuspend_url(other_moderator.username)),
        moderator_client.post(
            reverse("v1:moderation-location-revert", kwargs={"id": place.id}),
            {"revision": str(uuid.uuid4())},
        ),
    ]
    for response in calls:
        assert_problem(response, 403)
        assert "Rogue." in response.json()["detail"]
    # Reads of the queue still work.
    assert moderator_client.get(reverse("v1:moderation-queue")).status_code == 200


def test_a_suspended_moderator_cannot_use_the_console(staff_moderator, staff_moderator_browser):
    from moderation.services import user_suspend

    place = LocationFactory()
    change = reverse("admin:locations_location_change", args=[place.id])
    assert staff_moderator_browser.get("/admin/").status_code == 200

    user_suspend(username=staff_moderator.username, moderator=ModeratorFactory(), reason="Rogue.")

    for response in (
        staff_moderator_browser.get("/admin/"),
        staff_moderator_browser.get(change),
        staff_moderator_browser.post(
            reverse("admin:locations_location_changelist"),
            {"action": "approve_selected", "_selected_action": [str(place.id)]},
        ),
    ):
        assert response.status_code == 302
        assert response["Location"].startswith("/admin/login/")
    place.refresh_from_db()
    assert place.status == "pending"


def test_reads_still_work(user, user_client, suspended):
    own = LocationFactory(submitter=user)
    image = ImageFactory(uploader=user)
    for path in (
        "/me",
        "/me/locations",
        f"/locations/{own.id}",
        f"/images/{image.id}",
        "/locations/search?lat=52.5&lon=13.4",
        "/locations/viewport?bbox=13,52,14,53",
        "/categories",
    ):
        assert user_client.get(f"{API}{path}").status_code == 200, path


def test_an_expired_suspension_no_longer_applies(user, user_client, moderator):
    Suspension.objects.create(
        user=user, reason="Old.", created_by=moderator, until=timezone.now() - timedelta(seconds=1)
    )

    assert user_client.post(f"{API}/locations", PLACE).status_code == 201
    # And a new suspension replaces it (the expired one is closed by the clock).
    assert (
        client_for(moderator).post(suspend_url(user.username), {"reason": "New."}).status_code
        == 200
    )
    assert Suspension.objects.filter(user=user, lifted_at__isnull=True).count() == 1


# --- pending content ----------------------------------------------------------------------


def test_pending_places_and_photos_leave_the_queue_as_rejected_and_reversibly(
    user, user_client, moderator, moderator_client, django_capture_on_commit_callbacks
):
    pending_place = LocationFactory(submitter=user)
    photo_of_pending = ImageFactory(
        uploader=user, location=pending_place, moderation_status="pending"
    )
    approved_place = LocationFactory(submitter=user, approved=True)
    later_photo = ImageFactory(uploader=user, location=approved_place, moderation_status="pending")
    response = user_client.post(
        f"{API}/images/upload",
        {
            "file": SimpleUploadedFile("p.jpg", samples.jpeg(64, 64), "image/jpeg"),
            "location_id": str(approved_place.id),
        },
        format="multipart",
    )
    real_photo = response.json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        body = moderator_client.post(suspend_url(user.username), {"reason": "Spam ring."}).json()

    assert (body["places_rejected"], body["images_rejected"]) == (1, 3)
    pending_place.refresh_from_db()
    approved_place.refresh_from_db()
    assert pending_place.status == "rejected"
    assert approved_place.status == "approved"  # public content is not the queue
    log = ModerationLog.objects.get(location_ref=pending_place.id)
    assert (log.moderator, log.reason_code) == (moderator, "spam")
    assert "Spam ring." in log.reason
    for image in (photo_of_pending, later_photo):
        image.refresh_from_db()
        assert image.moderation_status == "rejected"
        assert image.objects_removed_at is None
    assert ImageModerationLog.objects.filter(reason_code="spam").count() == 3
    # The files are kept: a moderator can reverse every one of these decisions.
    assert {o["Key"] for o in storage.iter_objects(prefix=f"images/{real_photo}/")}
    place_status = reverse("v1:moderation-location-status", kwargs={"id": pending_place.id})
    assert moderator_client.patch(place_status, {"status": "approved"}).status_code == 200
    photo_status = reverse("v1:moderation-image-status", kwargs={"id": later_photo.id})
    assert moderator_client.patch(photo_status, {"status": "approved"}).status_code == 200


# --- the commands ----------------------------------------------------------------------


def test_the_commands_suspend_and_unsuspend(user, user_client, capsys):
    LocationFactory(submitter=user)

    call_command("suspend_user", user.username, "--reason", "Abuse.", "--until", "2099-01-31")

    suspension = Suspension.objects.get(user=user)
    assert suspension.until.isoformat() == "2099-01-31T00:00:00+00:00"
    assert suspension.created_by is None
    assert "rejected 1 pending place(s)" in capsys.readouterr().out
    response = user_client.post(f"{API}/locations", PLACE)
    assert_problem(response, 403)
    assert "2099-01-31T00:00:00.000000Z" in response.json()["detail"]

    call_command("unsuspend_user", user.username)
    assert Suspension.objects.get(user=user).lifted_at is not None
    assert user_client.post(f"{API}/locations", PLACE).status_code == 201


def test_the_commands_refuse_clearly(user):
    with pytest.raises(CommandError, match="No such user"):
        call_command("suspend_user", "nobody-here", "--reason", "x")
    with pytest.raises(CommandError, match="not a date"):
        call_command("suspend_user", user.username, "--reason", "x", "--until", "soon")
    with pytest.raises(CommandError, match="not suspended"):
        call_command("unsuspend_user", user.username)
    assert UserFactory()  # the refusals wrote nothing
    assert not Suspension.objects.exists()


def test_their_edits_awaiting_review_are_discarded_and_the_places_stay_as_approved(
    user, user_client, moderator_client, django_capture_on_commit_callbacks
):
    place = LocationFactory(submitter=user, approved=True, name="Corner bakery")
    edit = user_client.patch(f"{API}/locations/{place.id}", {"name": "BUY CHEAP PILLS"})
    assert edit.json()["properties"]["pending_revision"] is not None

    with django_capture_on_commit_callbacks(execute=True):
        body = moderator_client.post(suspend_url(user.username), {"reason": "Spam ring."}).json()

    assert body["revisions_rejected"] == 1
    place.refresh_from_db()
    assert (place.status, place.name) == ("approved", "Corner bakery")
    assert place.revisions.get(status="rejected").reason_code == "spam"
    log = ModerationLog.objects.get(location_ref=place.id, action="revision_rejected")
    assert log.reason_code == "spam"
    queue = moderator_client.get(f"{API}/admin/locations", {"status": "pending"}).json()
    assert queue["results"] == []
    # Like the places and photos it rejects, a suspension notifies nobody of each edit.
    assert not Notification.objects.filter(event="location.revision_rejected").exists()
