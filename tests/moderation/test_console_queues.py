"""The console's photo queue, flags queue and suspensions (moderation/admin_queues.py)."""

import pytest
from django.contrib.admin import helpers
from django.urls import reverse

from accounts.models import Suspension
from media_store.models import Image
from moderation.models import Flag, ImageModerationLog
from moderation.services import flag_create
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory
from tests.support import logged_in

pytestmark = pytest.mark.django_db

PHOTOS = reverse("admin:moderation_pendingphoto_changelist")
FLAGS = reverse("admin:moderation_flag_changelist")
USERS = reverse("admin:accounts_user_changelist")
SUSPENSIONS = reverse("admin:accounts_suspension_changelist")


def action(browser, url, name, objects, **extra):
    data = {"action": name, helpers.ACTION_CHECKBOX_NAME: [str(o.pk) for o in objects], **extra}
    return browser.post(url, data, follow=True)


# --- photos ---------------------------------------------------------------------------


def test_the_photo_queue_shows_pending_photos_large_with_their_place(staff_moderator_browser):
    place = LocationFactory(approved=True, name="Harbour steps")
    pending = ImageFactory(
        location=place,
        moderation_status="pending",
        thumbnail_keys={"256": "a/t256.webp", "1024": "a/t1024.webp"},
    )
    ImageFactory(location=place)  # approved: not in the queue

    response = staff_moderator_browser.get(PHOTOS)

    assert response.status_code == 200
    assert [obj.pk for obj in response.context["cl"].result_list] == [pending.pk]
    html = response.content.decode()
    assert "t1024.webp" in html and "max-width:360px" in html
    assert "Harbour steps" in html
    assert f'name="seen_version_{pending.pk}" value="1"' in html


def test_bulk_approve_and_reject_photos(staff_moderator, staff_moderator_browser):
    place = LocationFactory(approved=True)
    first, second = (ImageFactory(location=place, moderation_status="pending") for _ in range(2))

    response = action(staff_moderator_browser, PHOTOS, "approve_selected", [first])
    assert "Approved photos: 1." in response.content.decode()
    first.refresh_from_db()
    assert first.moderation_status == "approved"

    # The reject action asks for a reason first...
    page = action(staff_moderator_browser, PHOTOS, "reject_selected", [second])
    assert "Reject photos" in page.content.decode()
    # ... then decides.
    response = action(
        staff_moderator_browser,
        PHOTOS,
        "reject_selected",
        [second],
        apply="yes",
        reason_code="privacy",
        reason="Faces of passers-by.",
    )
    assert "Rejected photos: 1." in response.content.decode()
    second.refresh_from_db()
    assert second.moderation_status == "rejected"
    log = ImageModerationLog.objects.get(image_ref=second.pk)
    assert (log.moderator, log.reason) == (staff_moderator, "Faces of passers-by.")


def test_a_photo_changed_since_the_page_was_shown_is_refused_by_name(staff_moderator_browser):
    place = LocationFactory(approved=True)
    stale = ImageFactory(location=place, moderation_status="pending", version=2)
    fresh = ImageFactory(location=place, moderation_status="pending")

    response = action(
        staff_moderator_browser,
        PHOTOS,
        "approve_selected",
        [stale, fresh],
        **{f"seen_version_{stale.pk}": "1", f"seen_version_{fresh.pk}": "1"},
    )

    html = response.content.decode()
    assert "Approved photos: 1." in html
    assert f"photo {stale.pk}" in html and "version 2" in html
    assert Image.objects.get(pk=stale.pk).moderation_status == "pending"
    assert Image.objects.get(pk=fresh.pk).moderation_status == "approved"


def test_people_who_do_not_moderate_cannot_see_the_queues(moderator):
    # A user: the admin sends them to its login page.
    browser = logged_in(UserFactory())
    assert browser.get(PHOTOS).status_code == 302
    assert browser.get(FLAGS).status_code == 302
    # A moderator who is not staff has no console (the API is theirs).
    assert logged_in(moderator).get(PHOTOS).status_code == 302


# --- flags ------------------------------------------------------------------------------


def test_the_flag_page_shows_the_place_on_the_map_and_its_photos(staff_moderator_browser):
    place = LocationFactory(approved=True)
    ImageFactory(location=place, thumbnail_keys={"256": "p/t256.webp", "1024": "p/t1024.webp"})
    flag = flag_create(
        reporter=UserFactory(),
        target_type="location",
        target_id=place.pk,
        reason="closed",
        comment="Boarded up.",
    )

    listing = staff_moderator_browser.get(FLAGS)
    assert [obj.pk for obj in listing.context["cl"].result_list] == [flag.pk]
    page = staff_moderator_browser.get(reverse("admin:moderation_flag_change", args=[flag.pk]))

    html = page.content.decode()
    assert page.status_code == 200
    assert "id_flagged_place_point" in html  # the map widget
    assert "ol.js" in html
    assert "p/t1024.webp" in html
    assert "Boarded up." in html


def test_dismiss_and_action_from_the_queue(staff_moderator, staff_moderator_browser):
    place, other = LocationFactory(approved=True), LocationFactory(approved=True)
    reporters = [UserFactory(), UserFactory()]
    first = flag_create(
        reporter=reporters[0], target_type="location", target_id=place.pk, reason="spam"
    )
    flag_create(reporter=reporters[1], target_type="location", target_id=place.pk, reason="spam")
    third = flag_create(
        reporter=reporters[0], target_type="location", target_id=other.pk, reason="closed"
    )

    action(staff_moderator_browser, FLAGS, "dismiss_selected", [first])
    assert set(Flag.objects.filter(location=place).values_list("status", flat=True)) == {
        "dismissed"
    }

    response = action(
        staff_moderator_browser,
        FLAGS,
        "action_selected",
        [third],
        apply="yes",
        take_down_reason_code="inaccurate",
        take_down_reason="Closed in 2025.",
    )
    assert "Actioned flags: 1." in response.content.decode()
    other.refresh_from_db()
    assert other.status == "rejected"
    assert Flag.objects.get(pk=third.pk).resolved_by == staff_moderator


# --- suspensions -------------------------------------------------------------------------


def test_a_staff_moderator_suspends_from_the_users_list_and_lifts_it(
    staff_moderator, staff_moderator_browser
):
    target = UserFactory()
    pending = LocationFactory(submitter=target)

    page = action(staff_moderator_browser, USERS, "suspend_selected", [target])
    assert "Suspend users" in page.content.decode()
    action(
        staff_moderator_browser,
        USERS,
        "suspend_selected",
        [target],
        apply="yes",
        reason="Abusive comments.",
        until="",
    )

    suspension = Suspension.objects.get(user=target)
    assert (suspension.reason, suspension.created_by, suspension.until) == (
        "Abusive comments.",
        staff_moderator,
        None,
    )
    pending.refresh_from_db()
    assert pending.status == "rejected"

    action(staff_moderator_browser, SUSPENSIONS, "lift_selected", [suspension])
    suspension.refresh_from_db()
    assert suspension.lifted_by == staff_moderator
