"""The console decides what each row and page showed (the `_version_<pk>` inputs and the
page's seen_version), shows pending revisions with their diff, and reverts."""

import pytest
from django.contrib.gis.geos import Point
from django.urls import reverse

from locations import services as location_services
from locations.models import Location, LocationRevision
from moderation.models import ModerationLog
from notifications.models import Notification
from tests.locations.factories import LocationFactory

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:locations_location_changelist")


def change_url(location) -> str:
    return reverse("admin:locations_location_change", args=[location.pk])


def revert_url(location) -> str:
    return reverse("admin:locations_location_revert", args=[location.pk])


def owner_edit(place, **fields):
    location_services.location_update(location=place, actor=place.submitter, **fields)


def action_post(browser, action, locations, versions, **extra):
    return browser.post(
        CHANGELIST,
        {
            "action": action,
            "_selected_action": [str(loc.pk) for loc in locations],
            **{f"_version_{pk}": str(version) for pk, version in versions.items()},
            **extra,
        },
    )


def messages_of(response) -> list[str]:
    return [str(m) for m in response.wsgi_request._messages]


def test_each_row_of_the_queue_carries_its_version_inside_the_changelist_form(
    staff_moderator_browser,
):
    place = LocationFactory()
    approved = LocationFactory(approved=True)
    owner_edit(approved, name="Proposed name")

    response = staff_moderator_browser.get(CHANGELIST)

    content = response.content.decode()
    form = content[content.index('id="changelist-form"') :]
    assert f'name="_version_{place.pk}" value="1"' in form
    # The pending queue holds the approved place with an edit to review, at version 2.
    assert f'name="_version_{approved.pk}" value="2"' in form
    assert "edit to review" in content


def test_bulk_approve_refuses_a_row_edited_since_and_names_it_the_others_go_through(
    staff_moderator_browser,
):
    places = [LocationFactory(name=f"Queue place {n}") for n in range(3)]
    shown = {place.pk: 1 for place in places}
    # The owner renames the middle one after the queue was shown.
    owner_edit(places[1], name="BUY CHEAP PILLS")

    response = action_post(staff_moderator_browser, "approve_selected", places, shown)

    assert response.status_code == 302
    statuses = dict(Location.objects.values_list("name", "status"))
    assert statuses == {
        "Queue place 0": "approved",
        "BUY CHEAP PILLS": "pending",
        "Queue place 2": "approved",
    }
    messages = messages_of(response)
    assert "Approved 2 place(s)." in messages
    skipped = next(m for m in messages if m.startswith("Skipped 1"))
    assert "BUY CHEAP PILLS" in skipped
    assert "changed since you saw it" in skipped
    assert ModerationLog.objects.count() == 2


def test_bulk_reject_carries_the_versions_through_the_reason_page(staff_moderator_browser):
    places = [LocationFactory(name=f"Reject place {n}") for n in range(2)]
    shown = {place.pk: 1 for place in places}

    page = action_post(staff_moderator_browser, "reject_selected", places, shown)
    content = page.content.decode()
    for place in places:
        assert f'name="_version_{place.pk}" value="1"' in content
    owner_edit(places[0], description="Edited while the moderator typed the reason")

    response = action_post(
        staff_moderator_browser,
        "reject_selected",
        places,
        shown,
        apply="yes",
        reason_code="spam",
        reason="An advert.",
    )

    assert response.status_code == 302
    places[0].refresh_from_db()
    places[1].refresh_from_db()
    assert (places[0].status, places[1].status) == ("pending", "rejected")
    assert any("Reject place 0" in m for m in messages_of(response) if m.startswith("Skipped"))


def test_bulk_approve_publishes_pending_revisions(
    staff_moderator_browser, map_feed, django_capture_on_commit_callbacks
):
    place = LocationFactory(approved=True, name="Old name")
    owner_edit(place, name="New name")

    with django_capture_on_commit_callbacks(execute=True):
        action_post(staff_moderator_browser, "approve_selected", [place], {place.pk: 2})

    place.refresh_from_db()
    assert (place.name, place.version, place.status) == ("New name", 3, "approved")
    assert map_feed.receive()["event"] == "location.updated"
    assert ModerationLog.objects.get().action == "revision_approved"


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


def test_a_places_page_refuses_a_decision_on_a_version_it_did_not_show(
    staff_moderator_browser, pending_location
):
    page = staff_moderator_browser.get(change_url(pending_location))
    assert 'name="seen_version" value="1"' in page.content.decode()
    owner_edit(pending_location, name="BUY CHEAP PILLS")

    response = decision_post(
        staff_moderator_browser, pending_location, decision="approved", seen_version="1"
    )

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors["decision"]
    assert "changed since you opened it" in errors[0]
    pending_location.refresh_from_db()
    assert pending_location.status == "pending"
    assert not ModerationLog.objects.exists()


def test_a_places_page_decides_the_version_it_showed(staff_moderator_browser, pending_location):
    response = decision_post(
        staff_moderator_browser, pending_location, decision="approved", seen_version="1"
    )

    assert response.status_code == 302
    pending_location.refresh_from_db()
    assert pending_location.status == "approved"


def test_a_places_page_shows_the_pending_revisions_diff_and_both_points(
    staff_moderator_browser,
):
    place = LocationFactory(approved=True, name="Corner bakery", point=Point(13.4, 52.5))
    owner_edit(place, name="Corner cafe", latitude=52.6, longitude=13.5)

    content = staff_moderator_browser.get(change_url(place)).content.decode()

    assert "Corner bakery" in content
    assert "Corner cafe" in content
    assert 'class="revision-diff"' in content
    # One map of both positions: the published and the proposed point.
    assert "id_revision_points" in content
    assert "MultiPoint" in content
    assert "13.5" in content and "52.6" in content


def test_a_places_page_rejects_the_revision_with_a_reason_and_tells_the_owner(
    staff_moderator_browser,
):
    place = LocationFactory(approved=True, name="Corner bakery")
    owner_edit(place, name="Spam")

    response = decision_post(
        staff_moderator_browser,
        place,
        decision="rejected",
        reason_code="spam",
        reason="Advert.",
        seen_version="2",
    )

    assert response.status_code == 302
    place.refresh_from_db()
    assert (place.status, place.name) == ("approved", "Corner bakery")
    assert LocationRevision.objects.get(location=place, source="edit").status == "rejected"
    assert Notification.objects.filter(event="location.revision_rejected").count() == 1


def test_the_console_reverts_to_an_earlier_version(staff_moderator_browser, staff_moderator):
    place = location_services.location_create(
        submitter=None, name="Original", category="park", latitude=52.5, longitude=13.4
    )
    location_services.location_update(location=place, actor=staff_moderator, name="Vandalised")
    first = LocationRevision.objects.get(location=place, version=1)

    page = staff_moderator_browser.get(change_url(place)).content.decode()
    assert f'formaction="{revert_url(place)}"' in page
    assert f'value="{first.pk}"' in page

    response = staff_moderator_browser.post(
        revert_url(place), {"revision": str(first.pk), "seen_version": "2"}
    )

    assert response.status_code == 302
    place.refresh_from_db()
    assert (place.name, place.version) == ("Original", 3)
    log = ModerationLog.objects.get()
    assert (log.action, log.moderator) == ("revert", staff_moderator)
    assert any("now version 3" in m for m in messages_of(response))


def test_the_console_refuses_a_stale_revert(staff_moderator_browser, staff_moderator):
    place = location_services.location_create(
        submitter=None, name="Original", category="park", latitude=52.5, longitude=13.4
    )
    location_services.location_update(location=place, actor=staff_moderator, name="Changed")
    first = LocationRevision.objects.get(location=place, version=1)

    response = staff_moderator_browser.post(
        revert_url(place), {"revision": str(first.pk), "seen_version": "1"}
    )

    place.refresh_from_db()
    assert (place.name, place.version) == ("Changed", 2)
    assert any("Revert refused" in m for m in messages_of(response))
    assert not ModerationLog.objects.exists()
