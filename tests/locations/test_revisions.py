"""Versions and reviewed edits of places (docs/moderation.md, "Versions and revisions"):
an owner's edit of an approved place is a pending revision, the public keeps the approved
content meanwhile, and every version and proposal is listed with its before/after."""

import csv

import pytest

from locations.imports import locations_import
from locations.models import Location, LocationRevision
from tests.locations.conftest import API

pytestmark = pytest.mark.django_db


def patch(client, place, body):
    return client.patch(f"{API}/locations/{place.id}", body, format="json")


def revisions(client, place, **params):
    return client.get(f"{API}/locations/{place.id}/revisions", params)


# --- version -----------------------------------------------------------------------


def test_every_place_starts_at_version_1_and_shows_it_everywhere(
    api_client, user, place_of, django_assert_max_num_queries
):
    place = place_of(user, "approved", lon=13.4, lat=52.5, name="Versioned park")

    detail = api_client.get(f"{API}/locations/{place.id}").json()
    search = api_client.get(
        f"{API}/locations/search", {"lat": 52.5, "lon": 13.4, "radius": 100}
    ).json()
    viewport = api_client.get(f"{API}/locations/viewport", {"bbox": "13.3,52.4,13.5,52.6"}).json()
    assert detail["properties"]["version"] == 1
    assert search["features"][0]["properties"]["version"] == 1
    assert viewport["features"][0]["properties"]["version"] == 1


def test_a_submission_is_version_1_with_its_first_revision(user_client, user):
    response = user_client.post(
        f"{API}/locations",
        {"name": "New bakery", "category": "shop", "latitude": 52.5, "longitude": 13.4},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["properties"]["version"] == 1
    revision = LocationRevision.objects.get()
    assert (revision.version, revision.status, revision.source, revision.author) == (
        1,
        "applied",
        "submit",
        user,
    )
    assert revision.changes["name"] == {"before": None, "after": "New bakery"}


def test_an_owner_edit_of_a_pending_place_changes_it_in_place_and_bumps_the_version(
    user_client, user, place_of
):
    place = place_of(user, "pending", name="Old name")

    response = patch(user_client, place, {"name": "New name"})

    props = response.json()["properties"]
    assert (props["name"], props["status"], props["version"]) == ("New name", "pending", 2)
    assert props["pending_revision"] is None
    revision = LocationRevision.objects.get(location=place)
    assert (revision.status, revision.version, revision.base_version) == ("applied", 2, 1)
    assert revision.changes == {"name": {"before": "Old name", "after": "New name"}}


def test_an_owner_edit_of_a_rejected_place_sends_it_back_to_review(user_client, user, place_of):
    place = place_of(user, "rejected")

    props = patch(user_client, place, {"description": "Fixed"}).json()["properties"]

    assert (props["status"], props["version"], props["description"]) == ("pending", 2, "Fixed")


def test_a_moderators_edit_applies_directly_and_tells_the_map(
    moderator_client, moderator, user, place_of, map_feed, django_capture_on_commit_callbacks
):
    place = place_of(user, "approved", lon=13.4, lat=52.5)

    with django_capture_on_commit_callbacks(execute=True):
        response = patch(moderator_client, place, {"latitude": 52.6, "longitude": 13.5})

    props = response.json()["properties"]
    assert (props["status"], props["version"]) == ("approved", 2)
    assert "pending_revision" not in props
    event = map_feed.receive()
    assert event["event"] == "location.updated"
    assert event["feature"]["properties"]["version"] == 2
    assert event["previous"] == [13.4, 52.5]
    revision = LocationRevision.objects.get(location=place)
    assert (revision.source, revision.author) == ("moderator_edit", moderator)
    assert revision.changes["point"] == {
        "before": {"type": "Point", "coordinates": [13.4, 52.5]},
        "after": {"type": "Point", "coordinates": [13.5, 52.6]},
    }


# --- reviewed edits of approved places --------------------------------------------


def test_an_owner_edit_of_an_approved_place_is_a_pending_revision_the_public_does_not_see(
    user_client, api_client, user, place_of, map_feed, django_capture_on_commit_callbacks
):
    place = place_of(user, "approved", lon=13.4, lat=52.5, name="Corner bakery")

    with django_capture_on_commit_callbacks(execute=True):
        response = patch(
            user_client,
            place,
            {"name": "BUY CHEAP PILLS", "latitude": 52.51, "longitude": 13.41},
        )

    assert response.status_code == 200, response.content
    props = response.json()["properties"]
    # The owner is answered with the published content and their proposal beside it.
    assert (props["name"], props["status"], props["version"]) == ("Corner bakery", "approved", 2)
    pending = props["pending_revision"]
    assert pending["version"] == 2
    assert pending["status"] == "pending"
    assert pending["changes"] == {
        "name": {"before": "Corner bakery", "after": "BUY CHEAP PILLS"},
        "point": {
            "before": {"type": "Point", "coordinates": [13.4, 52.5]},
            "after": {"type": "Point", "coordinates": [13.41, 52.51]},
        },
    }
    # Nothing changed for the public: detail, search (text and radius), viewport, export.
    detail = api_client.get(f"{API}/locations/{place.id}").json()
    assert detail["properties"]["name"] == "Corner bakery"
    assert detail["geometry"]["coordinates"] == [13.4, 52.5]
    assert "pending_revision" not in detail["properties"]
    by_text = api_client.get(f"{API}/locations/search", {"q": "pills"}).json()
    assert by_text["features"] == []
    by_old_name = api_client.get(f"{API}/locations/search", {"q": "bakery"}).json()
    assert [f["id"] for f in by_old_name["features"]] == [str(place.id)]
    near_new = api_client.get(
        f"{API}/locations/search", {"lat": 52.51, "lon": 13.41, "radius": 50}
    ).json()
    assert near_new["features"] == []
    viewport = api_client.get(f"{API}/locations/viewport", {"bbox": "13.3,52.4,13.5,52.6"})
    feature = viewport.json()["features"][0]
    assert (feature["properties"]["name"], feature["geometry"]["coordinates"]) == (
        "Corner bakery",
        [13.4, 52.5],
    )
    export = api_client.get(f"{API}/locations/export", {"format": "csv"})
    assert "Corner bakery" in b"".join(export.streaming_content).decode()
    assert (
        "PILLS"
        not in b"".join(
            api_client.get(f"{API}/locations/export", {"format": "csv"}).streaming_content
        ).decode()
    )
    # ...and open maps heard nothing.
    assert map_feed.received_nothing()
    place.refresh_from_db()
    assert (place.name, place.status, place.version) == ("Corner bakery", "approved", 2)


def test_only_the_owner_sees_the_pending_revision(
    user_client, other_client, moderator_client, api_client, user, place_of
):
    place = place_of(user, "approved")
    patch(user_client, place, {"description": "Owner's new words"})

    owner = user_client.get(f"{API}/locations/{place.id}").json()["properties"]
    assert owner["pending_revision"]["changes"]["description"]["after"] == "Owner's new words"
    assert owner["pending_revision"]["author"] == user.username
    for client in (other_client, moderator_client, api_client):
        props = client.get(f"{API}/locations/{place.id}").json()["properties"]
        assert "pending_revision" not in props
        assert props["description"] != "Owner's new words"


def test_the_owner_sees_null_when_nothing_waits(user_client, user, place_of):
    place = place_of(user, "approved")
    props = user_client.get(f"{API}/locations/{place.id}").json()["properties"]
    assert props["pending_revision"] is None


def test_a_new_edit_replaces_the_pending_revision_and_builds_on_it(user_client, user, place_of):
    place = place_of(user, "approved", name="Green park", description="Old words")
    first = patch(user_client, place, {"name": "Greener park"}).json()["properties"]

    second = patch(user_client, place, {"description": "New words"}).json()["properties"]

    assert (first["version"], second["version"]) == (2, 3)
    pending = second["pending_revision"]
    assert pending["version"] == 3
    assert set(pending["changes"]) == {"name", "description"}
    statuses = dict(
        LocationRevision.objects.filter(location=place).values_list("version", "status")
    )
    assert statuses == {2: "superseded", 3: "pending"}
    place.refresh_from_db()
    assert (place.name, place.description) == ("Green park", "Old words")


def test_an_edit_back_to_the_approved_content_withdraws_the_proposal(user_client, user, place_of):
    place = place_of(user, "approved", name="Green park")
    patch(user_client, place, {"name": "Greener park"})

    props = patch(user_client, place, {"name": "Green park"}).json()["properties"]

    assert props["pending_revision"] is None
    assert props["version"] == 3
    assert not LocationRevision.objects.filter(location=place, status="pending").exists()


def test_an_edit_that_changes_nothing_creates_nothing(user_client, user, place_of):
    place = place_of(user, "approved", name="Same name")

    props = patch(user_client, place, {"name": "  Same name "}).json()["properties"]

    assert (props["version"], props["pending_revision"]) == (1, None)
    assert not LocationRevision.objects.filter(location=place).exists()


# --- GET /locations/{id}/revisions -------------------------------------------------


@pytest.mark.parametrize(
    ("who", "status", "expected"),
    [
        ("user_client", "approved", 200),
        ("user_client", "pending", 200),
        ("moderator_client", "approved", 200),
        ("moderator_client", "rejected", 200),
        ("other_client", "approved", 404),
        ("other_client", "pending", 404),
        ("api_client", "approved", 401),
    ],
)
def test_who_may_read_the_revisions(request, user, place_of, who, status, expected):
    place = place_of(user, status)
    response = revisions(request.getfixturevalue(who), place)
    assert response.status_code == expected, response.content


def test_the_revisions_list_every_version_and_proposal_newest_first(
    user_client, moderator_client, user, moderator
):
    created = user_client.post(
        f"{API}/locations",
        {"name": "Lake view", "category": "viewpoint", "latitude": 52.5, "longitude": 13.4},
        format="json",
    ).json()
    place = Location.objects.get(id=created["id"])
    patch(moderator_client, place, {"description": "Moderator's words"})
    moderator_client.patch(
        f"{API}/admin/locations/{place.id}/status", {"status": "approved"}, format="json"
    )
    patch(user_client, place, {"name": "Lake view point"})

    as_owner = revisions(user_client, place).json()
    as_moderator = revisions(moderator_client, place).json()

    assert as_owner["count"] == 3
    items = as_owner["results"]
    assert [(r["version"], r["status"], r["source"]) for r in items] == [
        (3, "pending", "edit"),
        (2, "applied", "moderator_edit"),
        (1, "applied", "submit"),
    ]
    assert items[0]["changes"] == {"name": {"before": "Lake view", "after": "Lake view point"}}
    assert items[1]["changes"] == {"description": {"before": "", "after": "Moderator's words"}}
    # The owner sees their own name, not the moderator's; moderators see both.
    assert [r["author"] for r in items] == [user.username, None, user.username]
    assert [r["author"] for r in as_moderator["results"]] == [
        user.username,
        moderator.username,
        user.username,
    ]


def test_the_revisions_are_paginated_strictly(user_client, user, place_of):
    place = place_of(user, "pending")
    for n in range(3):
        patch(user_client, place, {"description": f"Words {n}"})

    page = revisions(user_client, place, limit=2).json()

    assert page["count"] == 3
    assert len(page["results"]) == 2
    assert page["next"]
    assert revisions(user_client, place, limit=0).status_code == 400


# --- history (audit rows) ----------------------------------------------------------


def test_owner_and_moderator_changes_write_history_rows_with_actor_and_diff(
    user_client, moderator_client, user, moderator, place_of
):
    place = place_of(user, "pending", name="First name")
    patch(user_client, place, {"name": "Second name"})
    patch(moderator_client, place, {"name": "Third name"})

    rows = list(place.history.order_by("history_id"))
    edits = rows[-2:]
    assert [(r.history_user, r.name, r.version) for r in edits] == [
        (user, "Second name", 2),
        (moderator, "Third name", 3),
    ]
    delta = edits[1].diff_against(edits[0])
    changed = {c.field: (c.old, c.new) for c in delta.changes}
    assert changed["name"] == ("Second name", "Third name")
    assert changed["version"] == (2, 3)


def test_a_proposal_writes_a_history_row_of_the_version_only(user_client, user, place_of):
    place = place_of(user, "approved", name="Kept name")
    patch(user_client, place, {"name": "Proposed name"})

    latest = place.history.latest()
    assert (latest.history_user, latest.name, latest.version) == (user, "Kept name", 2)
    assert latest.history_change_reason == "revision proposed"


def _write_csv(path, rows):
    with open(path, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["external_id", "name", "category", "longitude", "latitude"])
        writer.writerows(rows)


def test_the_import_writes_history_and_revisions_set_wise_with_versions(tmp_path):
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    _write_csv(first, [["a", "Alpha place", "park", 13.4, 52.5], ["b", "Beta place", "park", 1, 2]])
    _write_csv(
        second, [["a", "Alpha place", "park", 13.5, 52.6], ["b", "Beta place", "park", 1, 2]]
    )

    locations_import(path=first, status="approved")
    report = locations_import(path=second, status="approved")

    assert (report.updated, report.unchanged) == (1, 1)
    alpha = Location.objects.get(external_id="a")
    beta = Location.objects.get(external_id="b")
    assert (alpha.version, beta.version) == (2, 1)
    assert [(h.history_type, h.version, h.history_change_reason) for h in alpha.history.all()] == [
        ("~", 2, "import"),
        ("+", 1, "import"),
    ]
    assert beta.history.count() == 1
    latest = LocationRevision.objects.filter(location=alpha).order_by("-version").first()
    assert (latest.source, latest.status, latest.base_version, latest.version) == (
        "import",
        "applied",
        1,
        2,
    )
    assert latest.changes == {
        "point": {
            "before": {"type": "Point", "coordinates": [13.4, 52.5]},
            "after": {"type": "Point", "coordinates": [13.5, 52.6]},
        }
    }
    created = LocationRevision.objects.get(location=beta)
    assert created.changes["name"] == {"before": None, "after": "Beta place"}


# --- GDPR --------------------------------------------------------------------------


def test_the_export_holds_the_users_revisions_and_audit_rows(user_client, user, place_of):
    from accounts.selectors import user_personal_data

    place = place_of(user, "approved", name="Kept name")
    patch(user_client, place, {"name": "My proposal"})

    data = user_personal_data(user=user)

    assert [(r["name"], r["status"]) for r in data["location_revisions"]] == [
        ("My proposal", "pending")
    ]
    assert data["location_history"][-1]["version"] == 2
    assert data["location_history"][-1]["reason"] == "revision proposed"


def test_erasure_keeping_places_unnames_revisions_and_audit_rows(
    user_client, moderator_client, user, moderator, place_of
):
    from accounts.services import user_erase

    pending_place = place_of(user, "pending")
    patch(user_client, pending_place, {"name": "Applied edit"})
    approved = place_of(user, "approved")
    patch(user_client, approved, {"name": "Waiting proposal"})

    user_erase(user=user, delete_places=False)

    # The waiting proposal is withdrawn; the applied edit stays, nobody's.
    assert not LocationRevision.objects.filter(status="pending").exists()
    assert list(LocationRevision.objects.values_list("author", flat=True)) == [None]
    assert not Location.history.filter(history_user_id=user.pk).exists()
    assert not Location.history.filter(submitter_id=user.pk).exists()
    assert Location.history.filter(id=pending_place.id).exists()


def test_erasure_deleting_places_removes_their_revisions_and_audit_rows(
    user_client, user, place_of
):
    from accounts.services import user_erase

    place = place_of(user, "pending")
    patch(user_client, place, {"name": "Applied edit"})

    user_erase(user=user, delete_places=True)

    assert not LocationRevision.objects.exists()
    assert not Location.history.filter(id=place.id).exists()


def test_the_revisions_page_costs_the_same_queries_for_3_or_30_revisions(
    user_client, user, place_of
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    counts = []
    for edits in (3, 30):
        place = place_of(user, "pending")
        for n in range(edits):
            patch(user_client, place, {"description": f"Words {n}"})
        with CaptureQueriesContext(connection) as queries:
            response = revisions(user_client, place)
        assert len(response.json()["results"]) == edits
        counts.append(len(queries))
    assert counts[0] == counts[1]


def test_the_backfill_gives_places_from_before_versions_a_first_version(user, place_of):
    import importlib

    from django.db import connection

    backfill = importlib.import_module("locations.migrations.0009_backfill_first_versions")
    old = place_of(user, "approved", name="Older than versions", lon=13.4, lat=52.5)
    Location.history.filter(id=old.id).delete()  # as before simple-history

    with connection.cursor() as cursor:
        cursor.execute(backfill.BACKFILL)
        cursor.execute(backfill.BACKFILL)  # idempotent

    revision = LocationRevision.objects.get(location=old)
    assert (revision.version, revision.status, revision.source, revision.author) == (
        1,
        "applied",
        "submit",
        user,
    )
    assert revision.changes["point"] == {
        "before": None,
        "after": {"type": "Point", "coordinates": [13.4, 52.5]},
    }
    baseline = Location.history.get(id=old.id)
    assert (baseline.history_type, baseline.history_change_reason) == ("+", "baseline")
