"""The Django admin as the moderation console (moderation.admin: places and the log)."""

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.test import Client
from django.urls import reverse

from locations import categories
from locations.models import Category, Location
from moderation.models import ModerationLog
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory
from tests.moderation.factories import ModerationLogFactory
from tests.support import logged_in

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:locations_location_changelist")
LOG_CHANGELIST = reverse("admin:moderation_moderationlog_changelist")


def change_url(location) -> str:
    return reverse("admin:locations_location_change", args=[location.pk])


def log_change_url(log) -> str:
    return reverse("admin:moderation_moderationlog_change", args=[log.pk])


def log_delete_url(log) -> str:
    return reverse("admin:moderation_moderationlog_delete", args=[log.pk])


def listed_ids(response) -> list:
    return [obj.pk for obj in response.context["cl"].result_list]


# --- who may do what --------------------------------------------------------------


def test_the_moderators_group_has_exactly_the_consoles_permissions():
    group = Group.objects.get(name=settings.MODERATORS_GROUP)
    assert set(group.permissions.values_list("content_type__app_label", "codename")) == {
        ("locations", "view_location"),
        ("locations", "change_location"),
        ("media_store", "view_image"),
        ("moderation", "view_moderationlog"),
    }


@pytest.fixture
def decided(approved_location, moderator):
    return ModerationLogFactory(location=approved_location, moderator=moderator)


def browser_for(kind: str) -> Client:
    if kind == "anonymous":
        return Client()
    users = {
        "user": lambda: UserFactory(),
        # Staff without the group: can log in to the admin, may see nothing in it.
        "staff without group": lambda: UserFactory(is_staff=True),
        "staff moderator": lambda: _staff_moderator(),
        "superuser": lambda: UserFactory(is_staff=True, is_superuser=True),
    }
    return logged_in(users[kind]())


def _staff_moderator():
    user = UserFactory(is_staff=True)
    user.groups.add(Group.objects.get(name=settings.MODERATORS_GROUP))
    return user


LOGIN = "login"
MATRIX = {
    # page: anonymous, user, staff without group, staff moderator, superuser
    "location changelist": (LOGIN, LOGIN, 403, 200, 200),
    "location change": (LOGIN, LOGIN, 403, 200, 200),
    "location add": (LOGIN, LOGIN, 403, 403, 403),
    "location delete": (LOGIN, LOGIN, 403, 403, 200),
    "log changelist": (LOGIN, LOGIN, 403, 200, 200),
    "log change": (LOGIN, LOGIN, 403, 200, 200),
    "log add": (LOGIN, LOGIN, 403, 403, 403),
    "log delete": (LOGIN, LOGIN, 403, 403, 200),
}
KINDS = ["anonymous", "user", "staff without group", "staff moderator", "superuser"]


@pytest.mark.parametrize("page", list(MATRIX))
@pytest.mark.parametrize("kind", KINDS)
def test_permission_matrix_of_the_console(page, kind, decided, approved_location):
    urls = {
        "location changelist": CHANGELIST,
        "location change": change_url(approved_location),
        "location add": reverse("admin:locations_location_add"),
        "location delete": reverse("admin:locations_location_delete", args=[approved_location.pk]),
        "log changelist": LOG_CHANGELIST,
        "log change": log_change_url(decided),
        "log add": reverse("admin:moderation_moderationlog_add"),
        "log delete": log_delete_url(decided),
    }
    expected = MATRIX[page][KINDS.index(kind)]

    response = browser_for(kind).get(urls[page])

    if expected == LOGIN:
        assert response.status_code == 302
        assert response["Location"].startswith(reverse("admin:login"))
    else:
        assert response.status_code == expected


def test_nobody_can_edit_an_audit_log_entry(superuser_browser, decided):
    response = superuser_browser.post(log_change_url(decided), {"reason": "rewritten"})
    assert response.status_code == 403
    decided.refresh_from_db()
    assert decided.reason == ""


def test_a_superuser_can_delete_an_audit_log_entry(superuser_browser, decided):
    response = superuser_browser.post(log_delete_url(decided), {"post": "yes"})
    assert response.status_code == 302
    assert not ModerationLog.objects.filter(pk=decided.pk).exists()


def test_a_log_entry_page_shows_it_read_only(staff_moderator_browser, decided):
    response = staff_moderator_browser.get(log_change_url(decided))
    assert response.status_code == 200
    assert response.context["adminform"].form.fields == {}
    assert b'name="_save"' not in response.content


# --- the queue ------------------------------------------------------------------


def test_the_console_opens_on_the_pending_queue_oldest_first(staff_moderator_browser):
    first, second = LocationFactory(), LocationFactory()
    LocationFactory(approved=True)
    LocationFactory(status="rejected")

    response = staff_moderator_browser.get(CHANGELIST)

    assert response.status_code == 200
    assert listed_ids(response) == [first.pk, second.pk]


@pytest.mark.parametrize(("status", "expected"), [("approved", 1), ("rejected", 1), ("all", 3)])
def test_the_status_filter_shows_other_statuses(staff_moderator_browser, status, expected):
    LocationFactory()
    LocationFactory(approved=True)
    LocationFactory(status="rejected")
    response = staff_moderator_browser.get(CHANGELIST, {"status": status})
    assert len(listed_ids(response)) == expected


def test_an_unknown_status_filter_does_not_break_the_page(staff_moderator_browser):
    response = staff_moderator_browser.get(CHANGELIST, {"status": "nonsense"})
    assert response.status_code == 302
    assert "e=1" in response["Location"]


def test_the_queue_filters_by_category_and_searches(staff_moderator_browser):
    cafe = LocationFactory(category="cafe", name="Blue Bottle")
    LocationFactory(category="park", name="Blue Lagoon Park")
    assert listed_ids(staff_moderator_browser.get(CHANGELIST, {"category": "cafe"})) == [cafe.pk]
    assert listed_ids(staff_moderator_browser.get(CHANGELIST, {"q": "bottle"})) == [cafe.pk]


def test_the_queue_of_fifty_places_with_photos_runs_a_bounded_number_of_queries(
    staff_moderator_browser, django_assert_max_num_queries
):
    for _ in range(50):
        location = LocationFactory()
        ImageFactory.create_batch(2, location=location, uploader=location.submitter)

    # The category filter's choices come from the process's copy of the categories,
    # read once per CATEGORY_CACHE_SECONDS (locations.categories), not per page.
    categories.known_slugs()
    # session, user, whether the user is suspended, user and group permissions, count,
    # page (with submitters), one prefetch of every photo, one of the pending revisions,
    # one statement of the likely duplicates: the same 10 for one place or fifty.
    with django_assert_max_num_queries(10):
        response = staff_moderator_browser.get(CHANGELIST)

    assert len(listed_ids(response)) == 50
    assert response.content.count(b"thumb-256.webp") == 100


def test_the_queue_filters_by_category_including_a_deactivated_one(staff_moderator_browser):
    museum = LocationFactory(category="museum")
    LocationFactory(category="park")
    Category.objects.filter(slug="museum").update(active=False)
    categories.clear_cache()

    response = staff_moderator_browser.get(CHANGELIST, {"category": "museum"})

    assert listed_ids(response) == [museum.pk]
    assert "Museum" in response.content.decode()


# --- a place's page -----------------------------------------------------------


def test_a_places_page_shows_the_map_photos_and_history(
    staff_moderator_browser, pending_location, moderator
):
    image = pending_location.images.get()
    ModerationLogFactory(
        location=pending_location,
        moderator=moderator,
        from_status="approved",
        to_status="pending",
        reason="Edited by its owner.",
    )

    response = staff_moderator_browser.get(change_url(pending_location))

    assert response.status_code == 200
    content = response.content.decode()
    assert "dj_map" in content  # the OpenLayers map widget, showing the point...
    assert "&quot;Point&quot;" in content
    assert "removeInteraction" in content  # ...without drawing tools
    assert f"images/{image.id}/thumb-256.webp" in content
    assert "Edited by its owner." in content
    inline_prefixes = [f.formset.prefix for f in response.context["inline_admin_formsets"]]
    assert inline_prefixes == ["images", "moderation_logs"]
    assert all(not f.has_add_permission for f in response.context["inline_admin_formsets"])


def decision_post(browser, location, **fields):
    data = {
        "images-TOTAL_FORMS": "0",
        "images-INITIAL_FORMS": "0",
        "moderation_logs-TOTAL_FORMS": "0",
        "moderation_logs-INITIAL_FORMS": "0",
        "seen_status": location.status,
        **fields,
    }
    return browser.post(change_url(location), data)


def test_a_moderator_approves_from_a_places_page(
    staff_moderator_browser, staff_moderator, pending_location
):
    response = decision_post(staff_moderator_browser, pending_location, decision="approved")

    assert response.status_code == 302
    pending_location.refresh_from_db()
    assert pending_location.status == "approved"
    log = ModerationLog.objects.get()
    assert (log.moderator, log.to_status) == (staff_moderator, "approved")
    assert Notification.objects.get().event == "location.approved"


def test_rejecting_from_a_places_page_needs_a_reason(staff_moderator_browser, pending_location):
    response = decision_post(staff_moderator_browser, pending_location, decision="rejected")

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert set(errors) == {"reason_code", "reason"}
    pending_location.refresh_from_db()
    assert pending_location.status == "pending"
    assert not ModerationLog.objects.exists()


def test_a_decision_on_a_page_someone_else_decided_on_meanwhile_is_refused(
    staff_moderator_browser, pending_location, moderator
):
    Location.objects.filter(pk=pending_location.pk).update(status="rejected")

    response = decision_post(
        staff_moderator_browser, pending_location, decision="approved", seen_status="pending"
    )

    assert response.status_code == 200
    assert "decision" in response.context["adminform"].form.errors
    pending_location.refresh_from_db()
    assert pending_location.status == "rejected"


def test_the_console_cannot_edit_a_places_content(staff_moderator_browser, pending_location):
    response = decision_post(
        staff_moderator_browser,
        pending_location,
        name="Renamed by a moderator",
        point='{"type": "Point", "coordinates": [0, 0]}',
    )
    assert response.status_code == 302
    before = (pending_location.name, pending_location.point.coords)
    pending_location.refresh_from_db()
    assert (pending_location.name, pending_location.point.coords) == before
    assert not ModerationLog.objects.exists()


# --- bulk actions ---------------------------------------------------------------


def action_post(browser, action: str, locations, **extra):
    return browser.post(
        CHANGELIST + "?status=all",
        {"action": action, "_selected_action": [str(loc.pk) for loc in locations], **extra},
    )


def test_bulk_approve_writes_one_log_row_and_one_notification_per_place(
    staff_moderator_browser, staff_moderator, map_feed, django_capture_on_commit_callbacks
):
    places = [LocationFactory() for _ in range(3)]

    with django_capture_on_commit_callbacks(execute=True):
        response = action_post(staff_moderator_browser, "approve_selected", places)

    assert response.status_code == 302
    assert set(Location.objects.values_list("status", flat=True)) == {"approved"}
    logs = ModerationLog.objects.all()
    assert sorted(log.location_ref for log in logs) == sorted(p.id for p in places)
    assert {log.moderator for log in logs} == {staff_moderator}
    notifications = Notification.objects.all()
    assert sorted(n.recipient_id for n in notifications) == sorted(p.submitter_id for p in places)
    assert {n.event for n in notifications} == {"location.approved"}
    published = {map_feed.receive()["id"] for _ in places}
    assert published == {str(p.id) for p in places}


def test_bulk_approve_skips_places_already_decided_and_says_so(staff_moderator_browser):
    pending = LocationFactory()
    approved = LocationFactory(approved=True, name="Already public")

    response = action_post(staff_moderator_browser, "approve_selected", [pending, approved])

    assert ModerationLog.objects.get().location_ref == pending.id
    messages = [str(m) for m in response.wsgi_request._messages]
    assert "Approved 1 place(s)." in messages
    assert any("Skipped 1: Already public" in m for m in messages)


def test_reject_with_reason_first_asks_for_the_reason(staff_moderator_browser):
    places = [LocationFactory(name="Spammy place"), LocationFactory()]

    response = action_post(staff_moderator_browser, "reject_selected", places)

    assert response.status_code == 200
    assert response.templates[0].name == "admin/locations/location/reject_with_reason.html"
    content = response.content.decode()
    assert "Spammy place" in content
    assert 'name="reason_code"' in content
    assert content.count('name="_selected_action"') == 2
    assert not ModerationLog.objects.exists()


@pytest.mark.parametrize(
    ("given", "missing"),
    [({"reason_code": "spam"}, "reason"), ({"reason": "It is an advert."}, "reason_code")],
)
def test_reject_with_reason_refuses_a_missing_reason(staff_moderator_browser, given, missing):
    place = LocationFactory()

    response = action_post(
        staff_moderator_browser, "reject_selected", [place], apply="yes", **given
    )

    assert response.status_code == 200
    assert list(response.context["form"].errors) == [missing]
    place.refresh_from_db()
    assert place.status == "pending"
    assert not ModerationLog.objects.exists()


def test_reject_with_reason_rejects_and_takes_down_with_one_log_row_each(
    staff_moderator_browser, map_feed, django_capture_on_commit_callbacks
):
    pending = LocationFactory()
    approved = LocationFactory(approved=True)

    with django_capture_on_commit_callbacks(execute=True):
        response = action_post(
            staff_moderator_browser,
            "reject_selected",
            [pending, approved],
            apply="yes",
            reason_code="duplicate",
            reason="Already on the map as another place.",
        )

    assert response.status_code == 302
    assert set(Location.objects.values_list("status", flat=True)) == {"rejected"}
    logs = {log.location_ref: log for log in ModerationLog.objects.all()}
    assert set(logs) == {pending.id, approved.id}
    assert logs[approved.id].from_status == "approved"
    assert {(log.reason_code, log.reason) for log in logs.values()} == {
        ("duplicate", "Already on the map as another place.")
    }
    notifications = Notification.objects.all()
    assert len(notifications) == 2
    assert {n.payload["reason_code"] for n in notifications} == {"duplicate"}
    # Only the take-down concerns open maps.
    message = map_feed.receive()
    assert (message["event"], message["id"]) == ("location.removed", str(approved.id))
    assert map_feed.received_nothing()


def test_a_staff_user_without_the_group_cannot_run_the_actions():
    place = LocationFactory()
    browser = logged_in(UserFactory(is_staff=True))
    response = action_post(browser, "approve_selected", [place])
    assert response.status_code == 403
    place.refresh_from_db()
    assert place.status == "pending"


def test_a_superuser_deleting_a_public_place_takes_it_off_open_maps(
    superuser_browser, approved_location, map_feed, django_capture_on_commit_callbacks
):
    url = reverse("admin:locations_location_delete", args=[approved_location.pk])

    with django_capture_on_commit_callbacks(execute=True):
        response = superuser_browser.post(url, {"post": "yes"})

    assert response.status_code == 302
    assert not Location.objects.filter(pk=approved_location.pk).exists()
    message = map_feed.receive()
    assert (message["event"], message["id"]) == ("location.removed", str(approved_location.id))
