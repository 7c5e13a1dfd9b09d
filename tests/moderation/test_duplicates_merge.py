"""Duplicates (candidates at submit, in the queue, GET /locations/duplicates) and the
merge (POST /admin/locations/{id}/merge): docs/moderation.md "Duplicates and merge"."""

import uuid

import pytest
from django.contrib.gis.geos import Point
from django.db import connection
from django.test import override_settings
from rest_framework.test import APIClient

from locations.models import Location
from media_store.models import Image
from moderation.models import ModerationLog
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

API = "/api/v1"
LAT, LON = 52.52, 13.405
# About 55 m and 111 m north of (LAT, LON).
NEAR, FAR = 0.0005, 0.001


def place(name, *, dlat=0.0, status="approved", category="cafe", **kwargs):
    extra = {"approved": True} if status == "approved" else {"status": status}
    return LocationFactory(
        name=name, category=category, point=Point(LON, LAT + dlat, srid=4326), **extra, **kwargs
    )


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def submit(client, name, *, dlat=0.0, category="cafe"):
    body = {"name": name, "category": category, "latitude": LAT + dlat, "longitude": LON}
    return client.post(f"{API}/locations", body, format="json")


def merge(client, location, into):
    return client.post(
        f"{API}/admin/locations/{location.id}/merge", {"into": str(into)}, format="json"
    )


# --- candidates -----------------------------------------------------------------------


def test_a_submission_answers_the_similar_places_nearby_and_only_those(user_client):
    bakery = place("Kaffee Bäckerei Schmidt", dlat=NEAR)
    place("Kaffee Bäckerei Schmidt", dlat=FAR)  # same name, outside 75 m
    place("Tempelhofer Feld", dlat=NEAR / 2)  # near, another name
    place("Kaffee Baeckerei Schmid", status="rejected")  # not a candidate status

    response = submit(user_client, "Kaffee Bäckerei Schmidt")

    assert response.status_code == 201, response.content
    duplicates = response.json()["properties"]["possible_duplicates"]
    assert [d["id"] for d in duplicates] == [str(bakery.id)]
    assert duplicates[0]["name"] == "Kaffee Bäckerei Schmidt"
    assert 50 < duplicates[0]["distance_m"] < 60
    assert duplicates[0]["similarity"] == 1.0


def test_a_submission_with_nothing_alike_answers_an_empty_list(user_client):
    response = submit(user_client, "Completely new place")

    assert response.status_code == 201
    assert response.json()["properties"]["possible_duplicates"] == []


def test_the_same_category_is_weighted_up(user_client):
    # The two names are below 0.4 alone; the same category lifts the cafe over it.
    same = place("Einstein Kaffeehaus", dlat=NEAR, category="cafe")
    place("Einstein Kaffeehaus", dlat=-NEAR, category="museum")
    with connection.cursor() as cursor:
        cursor.execute("SELECT similarity(lower('Einstein Kaffeehaus'), lower('Cafe Einstein'))")
        plain = cursor.fetchone()[0]
    assert 0.4 - 0.15 <= plain < 0.4

    duplicates = submit(user_client, "Cafe Einstein").json()["properties"]["possible_duplicates"]

    assert [d["id"] for d in duplicates] == [str(same.id)]
    assert duplicates[0]["similarity"] == pytest.approx(plain, abs=0.001)


def test_other_peoples_pending_places_stay_out_of_the_answer_but_ones_own_are_in(user, user_client):
    theirs = place("Corner Bakery", status="pending")
    mine = place("Corner Bakery", status="pending", dlat=NEAR / 2, submitter=user)

    duplicates = submit(user_client, "Corner Bakery").json()["properties"]["possible_duplicates"]

    assert [d["id"] for d in duplicates] == [str(mine.id)]
    assert str(theirs.id) not in str(duplicates)


def test_the_queue_shows_pending_and_approved_candidates_beside_each_place(
    user_client, moderator_client
):
    public = place("Corner Bakery", dlat=NEAR / 2)
    waiting = place("Corner Bakery", status="pending", dlat=-NEAR / 2)
    new_id = submit(user_client, "Corner Bakery").json()["id"]

    items = {i["id"]: i for i in moderator_client.get(f"{API}/admin/locations").json()["results"]}

    assert {d["id"] for d in items[new_id]["possible_duplicates"]} == {
        str(public.id),
        str(waiting.id),
    }
    assert {d["id"] for d in items[str(waiting.id)]["possible_duplicates"]} == {
        str(public.id),
        new_id,
    }


def test_get_duplicates_lists_approved_places_only():
    public = place("Corner Bakery", dlat=NEAR)
    place("Corner Bakery", status="pending")
    anonymous = APIClient()

    response = anonymous.get(
        f"{API}/locations/duplicates", {"lat": LAT, "lon": LON, "name": "corner bakery"}
    )

    assert response.status_code == 200
    assert [d["id"] for d in response.json()["possible_duplicates"]] == [str(public.id)]
    assert "max-age" in response["Cache-Control"]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"lon": LON, "name": "Bakery"}, "lat"),
        ({"lat": 91, "lon": LON, "name": "Bakery"}, "lat"),
        ({"lat": LAT, "lon": LON, "name": ""}, "name"),
        ({"lat": LAT, "lon": LON, "name": "Bakery", "category": "spaceport"}, "category"),
        ({"lat": LAT, "lon": LON, "name": "Bakery", "radius": "5"}, "radius"),
    ],
)
def test_get_duplicates_refuses_bad_parameters_naming_them(params, field):
    assert_problem(APIClient().get(f"{API}/locations/duplicates", params), 400, field=field)


@override_settings(DUPLICATE_RADIUS_M=200)
def test_the_radius_is_a_setting(user_client):
    far = place("Corner Bakery", dlat=FAR)

    duplicates = submit(user_client, "Corner Bakery").json()["properties"]["possible_duplicates"]

    assert [d["id"] for d in duplicates] == [str(far.id)]


# --- merge --------------------------------------------------------------------------------


@pytest.fixture
def pair(db):
    owner = UserFactory()
    duplicate = place("Corner Bakery!", dlat=NEAR, submitter=owner)
    target = place("Corner Bakery")
    return duplicate, target


def test_a_merge_moves_photos_redirects_and_leaves_every_public_read(
    pair, moderator, moderator_client, map_feed, django_capture_on_commit_callbacks
):
    duplicate, target = pair
    photo = ImageFactory(location=duplicate, uploader=duplicate.submitter)
    anonymous = APIClient()

    with django_capture_on_commit_callbacks(execute=True):
        response = merge(moderator_client, duplicate, target.id)

    assert response.status_code == 200, response.content
    body = response.json()
    assert (body["status"], body["merged_into"]) == ("merged", str(target.id))
    assert Image.objects.get(pk=photo.pk).location_id == target.id

    detail = anonymous.get(f"{API}/locations/{duplicate.id}")
    assert detail.status_code == 301
    assert detail["Location"].endswith(f"/api/v1/locations/{target.id}")
    assert client_for(duplicate.submitter).get(f"{API}/locations/{duplicate.id}").status_code == 301
    assert anonymous.get(detail["Location"]).status_code == 200

    search = anonymous.get(f"{API}/locations/search", {"lat": LAT, "lon": LON}).json()
    assert [f["id"] for f in search["features"]] == [str(target.id)]
    bbox = f"{LON - 0.01},{LAT - 0.01},{LON + 0.01},{LAT + 0.01}"
    viewport = anonymous.get(f"{API}/locations/viewport", {"bbox": bbox}).json()
    assert [f["id"] for f in viewport["features"]] == [str(target.id)]
    export = anonymous.get(f"{API}/locations/export", {"format": "geojson"})
    assert str(duplicate.id) not in b"".join(export.streaming_content).decode()
    ogc = anonymous.get(f"{API}/ogc/collections/places/items/{duplicate.id}")
    assert ogc.status_code == 404

    events = {map_feed.receive()["event"]: None for _ in range(2)}
    assert set(events) == {"location.removed", "location.updated"}

    log = ModerationLog.objects.get(location_ref=duplicate.id)
    assert (log.moderator, log.action, log.from_status, log.to_status, log.reason_code) == (
        moderator,
        "merge",
        "approved",
        "merged",
        "duplicate",
    )
    duplicate.refresh_from_db()
    history = duplicate.history.first()
    assert (history.status, history.history_change_reason) == ("merged", f"merged into {target.id}")
    assert duplicate.revisions.count() >= 0  # revisions are kept (CASCADE only on delete)
    notification = Notification.objects.get(recipient=duplicate.submitter, event="location.merged")
    assert notification.payload["into_id"] == str(target.id)


def test_the_feed_names_each_place_in_its_event(
    pair, moderator_client, map_feed, django_capture_on_commit_callbacks
):
    duplicate, target = pair
    with django_capture_on_commit_callbacks(execute=True):
        merge(moderator_client, duplicate, target.id)

    events = {}
    for _ in range(2):
        event = map_feed.receive()
        events[event["event"]] = event["id"]
    assert events == {"location.removed": str(duplicate.id), "location.updated": str(target.id)}


def test_merging_into_itself_or_into_a_merged_place_is_409(pair, moderator_client):
    duplicate, target = pair
    third = place("Corner Bakery?")

    assert_problem(merge(moderator_client, duplicate, duplicate.id), 409)
    assert merge(moderator_client, third, target.id).status_code == 200
    assert_problem(merge(moderator_client, duplicate, third.id), 409)
    assert_problem(merge(moderator_client, third, target.id), 409)
    duplicate.refresh_from_db()
    assert duplicate.status == "approved"


def test_merge_refusals_name_the_problem(pair, moderator_client, user_client):
    duplicate, target = pair
    assert_problem(merge(moderator_client, duplicate, uuid.uuid4()), 404)
    assert_problem(
        moderator_client.post(
            f"{API}/admin/locations/{duplicate.id}/merge", {"into": "x"}, format="json"
        ),
        400,
        field="into",
    )
    assert_problem(merge(user_client, duplicate, target.id), 403)
    assert_problem(merge(APIClient(), duplicate, target.id), 401)


def test_a_merged_place_cannot_be_edited_by_its_owner(pair, moderator_client):
    duplicate, target = pair
    merge(moderator_client, duplicate, target.id)
    owner = client_for(duplicate.submitter)

    response = owner.patch(f"{API}/locations/{duplicate.id}", {"name": "New"}, format="json")

    assert_problem(response, 409)
    assert Location.objects.get(pk=duplicate.pk).name == "Corner Bakery!"


# --- the console ------------------------------------------------------------------------


def test_the_console_lists_duplicates_and_merges_with_an_action(pair, staff_moderator_browser):
    duplicate, target = pair
    changelist = "/admin/locations/location/"

    listed = staff_moderator_browser.get(changelist, {"status": "approved"})
    # The duplicate's row links its candidate.
    assert f"/admin/locations/location/{target.id}/change/".encode() in listed.content

    # The action acts on the list as filtered: the approved places.
    changelist += "?status=approved"
    asked = staff_moderator_browser.post(
        changelist, {"action": "merge_selected", "_selected_action": [str(duplicate.id)]}
    )
    assert b"Merge into" in asked.content
    done = staff_moderator_browser.post(
        changelist,
        {
            "action": "merge_selected",
            "_selected_action": [str(duplicate.id)],
            "apply": "yes",
            "into": str(target.id),
        },
        follow=True,
    )

    assert b"Merged 1 place(s)" in done.content, done.content.decode()[-3000:]
    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.merged_into_id) == ("merged", target.id)
    itself = staff_moderator_browser.post(
        changelist,
        {
            "action": "merge_selected",
            "_selected_action": [str(target.id)],
            "apply": "yes",
            "into": str(target.id),
        },
        follow=True,
    )
    assert b"Not merged" in itself.content
