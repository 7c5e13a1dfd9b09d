"""Flags (docs/moderation.md "Flags"): reporting public places and photos, the hide
threshold, the moderators' queue and resolution, the reporters' notifications."""

import pytest
from django.test import override_settings
from django.urls import reverse
from rest_framework.test import APIClient

from locations.models import Location
from moderation.models import Flag, ImageModerationLog, ModerationLog
from notifications.models import Notification
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

API = "/api/v1"
QUEUE = reverse("v1:moderation-flags")
BERLIN = {"lat": 52.52, "lon": 13.405}


def place_flags(place) -> str:
    return reverse("v1:location-flags", kwargs={"id": place.id})


def image_flags(image) -> str:
    return reverse("v1:image-flags", kwargs={"id": image.id})


def resolve_url(flag_id) -> str:
    return reverse("v1:moderation-flag", kwargs={"id": flag_id})


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def public_place(db):
    return LocationFactory(
        approved=True,
        name="Corner bakery",
        point=Location._meta.get_field("point").to_python("SRID=4326;POINT (13.405 52.52)"),
    )


def flag(client, url, reason="closed", comment=""):
    return client.post(url, {"reason": reason, "comment": comment})


# --- reporting ----------------------------------------------------------------------


def test_a_flag_on_a_public_place_is_201_with_its_id(public_place, user, user_client):
    response = flag(user_client, place_flags(public_place), "wrong_location", "It is 200 m east.")

    assert response.status_code == 201, response.content
    body = response.json()
    stored = Flag.objects.get()
    assert body["id"] == stored.id
    assert body["target_type"] == "location"
    assert body["location_id"] == str(public_place.id)
    assert body["image_id"] is None
    assert (body["reason"], body["comment"], body["status"]) == (
        "wrong_location",
        "It is 200 m east.",
        "open",
    )
    assert (stored.reporter, stored.location) == (user, public_place)


def test_a_flag_on_a_public_photo_is_201(public_place, user_client):
    image = ImageFactory(location=public_place, uploader=public_place.submitter)

    response = flag(user_client, image_flags(image), "privacy")

    assert response.status_code == 201, response.content
    assert response.json()["target_type"] == "image"
    assert response.json()["image_id"] == str(image.id)


def test_a_second_open_flag_by_the_same_user_is_409(public_place, user_client, other_client):
    assert flag(user_client, place_flags(public_place)).status_code == 201

    assert_problem(flag(user_client, place_flags(public_place), "spam"), 409)
    assert flag(other_client, place_flags(public_place)).status_code == 201
    assert Flag.objects.count() == 2


def test_after_resolution_the_same_user_may_flag_again(public_place, user_client, moderator_client):
    first = flag(user_client, place_flags(public_place)).json()["id"]
    assert (
        moderator_client.patch(resolve_url(first), {"resolution": "dismissed"}).status_code == 200
    )

    assert flag(user_client, place_flags(public_place)).status_code == 201


def test_anonymous_flags_are_401(public_place):
    assert_problem(flag(APIClient(), place_flags(public_place)), 401)
    assert not Flag.objects.exists()


@pytest.mark.parametrize("status", ["pending", "rejected", "hidden"])
def test_flagging_a_place_you_cannot_see_is_404(status, user_client):
    place = LocationFactory(status=status)
    assert_problem(flag(user_client, place_flags(place)), 404)
    missing = "00000000-0000-4000-8000-000000000000"
    assert_problem(flag(user_client, f"{API}/locations/{missing}/flags"), 404)


@pytest.mark.parametrize("status", ["pending", "rejected", "hidden"])
def test_flagging_a_photo_you_cannot_see_is_404(status, public_place, user_client):
    image = ImageFactory(location=public_place, moderation_status=status)
    assert_problem(flag(user_client, image_flags(image)), 404)
    on_pending_place = ImageFactory(location=LocationFactory())
    assert_problem(flag(user_client, image_flags(on_pending_place)), 404)


def test_bad_input_names_the_field(public_place, user_client):
    assert_problem(flag(user_client, place_flags(public_place), "ugly"), 400, field="reason")
    assert_problem(
        user_client.post(place_flags(public_place), {"reason": "other", "comment": "x" * 2001}),
        400,
        field="comment",
    )


def test_flags_are_throttled_per_user(public_place, user_client, other_client):
    from django.conf import settings

    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "flags": "2/hour"}
    places = [LocationFactory(approved=True) for _ in range(3)]
    with override_settings(
        REST_FRAMEWORK={**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    ):
        assert flag(user_client, place_flags(places[0])).status_code == 201
        assert flag(user_client, place_flags(places[1])).status_code == 201
        throttled = flag(user_client, place_flags(places[2]))
        assert flag(other_client, place_flags(places[2])).status_code == 201

    assert_problem(throttled, 429)
    assert 1 <= int(throttled["Retry-After"]) <= 3600


# --- the hide threshold --------------------------------------------------------------


def search_ids(client) -> list[str]:
    response = client.get(f"{API}/locations/search", {**BERLIN, "radius": 5000})
    return [feature["id"] for feature in response.json()["features"]]


def viewport_ids(client) -> list[str]:
    response = client.get(f"{API}/locations/viewport", {"bbox": "13.3,52.4,13.5,52.6"})
    return [feature["id"] for feature in response.json()["features"]]


@override_settings(FLAG_HIDE_THRESHOLD=3)
def test_three_users_hide_a_place_until_a_moderator_decides(
    public_place, map_feed, django_capture_on_commit_callbacks
):
    anonymous = APIClient()
    reporters = [UserFactory() for _ in range(3)]
    assert search_ids(anonymous) == viewport_ids(anonymous) == [str(public_place.id)]

    for reporter in reporters[:2]:
        assert flag(client_for(reporter), place_flags(public_place)).status_code == 201
    public_place.refresh_from_db()
    assert public_place.status == "approved"

    with django_capture_on_commit_callbacks(execute=True):
        assert flag(client_for(reporters[2]), place_flags(public_place)).status_code == 201

    public_place.refresh_from_db()
    assert public_place.status == "hidden"
    assert_problem(anonymous.get(f"{API}/locations/{public_place.id}"), 404)
    assert search_ids(anonymous) == []
    assert viewport_ids(anonymous) == []
    export = anonymous.get(f"{API}/locations/export", {"format": "geojson"})
    assert str(public_place.id) not in b"".join(export.streaming_content).decode()
    event = map_feed.receive()
    assert (event["event"], event["id"]) == ("location.removed", str(public_place.id))
    log = ModerationLog.objects.get(location_ref=public_place.id)
    assert (log.moderator, log.from_status, log.to_status, log.reason_code) == (
        None,
        "approved",
        "hidden",
        "flagged",
    )


@override_settings(FLAG_HIDE_THRESHOLD=2)
def test_enough_users_hide_a_photo(public_place):
    image = ImageFactory(location=public_place, uploader=public_place.submitter)
    for _ in range(2):
        assert flag(client_for(UserFactory()), image_flags(image)).status_code == 201

    image.refresh_from_db()
    assert image.moderation_status == "hidden"
    detail = APIClient().get(f"{API}/locations/{public_place.id}").json()
    assert detail["properties"]["images"] == []
    log = ImageModerationLog.objects.get(image_ref=image.id)
    assert (log.moderator, log.to_status, log.reason_code) == (None, "hidden", "flagged")


# --- a hidden object decided without its flags ---------------------------------------


def place_status_url(place) -> str:
    return reverse("v1:moderation-location-status", kwargs={"id": place.id})


def image_status_url(image) -> str:
    return reverse("v1:moderation-image-status", kwargs={"id": image.id})


@pytest.mark.parametrize(
    "decision, resolution",
    [
        ({"status": "approved"}, "dismissed"),
        ({"status": "rejected", "reason_code": "inaccurate", "reason": "Gone."}, "actioned"),
    ],
)
@override_settings(FLAG_HIDE_THRESHOLD=2)
def test_a_status_decision_on_a_hidden_place_settles_its_flags(
    public_place, moderator, moderator_client, decision, resolution
):
    reporters = [UserFactory(), UserFactory()]
    for reporter in reporters:
        flag(client_for(reporter), place_flags(public_place))
    public_place.refresh_from_db()
    assert public_place.status == "hidden"

    response = moderator_client.patch(place_status_url(public_place), decision, format="json")

    assert response.status_code == 200, response.content
    flags = Flag.objects.filter(location=public_place)
    assert {(f.status, f.resolved_by) for f in flags} == {(resolution, moderator)}
    assert all(f.resolved_at is not None for f in flags)
    mails = Notification.objects.filter(event="flag.resolved")
    assert sorted(n.recipient_id for n in mails) == sorted(r.id for r in reporters)
    assert {n.payload["resolution"] for n in mails} == {resolution}
    # The queue is empty again, and the reporters may flag the place anew.
    assert moderator_client.get(QUEUE).json()["count"] == 0


@pytest.mark.parametrize(
    "decision, resolution",
    [
        ({"status": "approved"}, "dismissed"),
        ({"status": "rejected", "reason_code": "inappropriate", "reason": "No."}, "actioned"),
    ],
)
@override_settings(FLAG_HIDE_THRESHOLD=2)
def test_a_status_decision_on_a_hidden_photo_settles_its_flags(
    public_place, moderator, moderator_client, decision, resolution
):
    image = ImageFactory(location=public_place, uploader=public_place.submitter)
    for _ in range(2):
        flag(client_for(UserFactory()), image_flags(image))
    image.refresh_from_db()
    assert image.moderation_status == "hidden"

    response = moderator_client.patch(image_status_url(image), decision, format="json")

    assert response.status_code == 200, response.content
    assert {f.status for f in Flag.objects.filter(image=image)} == {resolution}
    assert Notification.objects.filter(event="flag.resolved").count() == 2


@override_settings(FLAG_HIDE_THRESHOLD=1)
def test_a_take_down_through_a_flag_resolves_each_flag_once(
    public_place, moderator, user, moderator_client
):
    flag_id = flag(client_for(user), place_flags(public_place)).json()["id"]
    public_place.refresh_from_db()
    assert public_place.status == "hidden"

    response = moderator_client.patch(
        resolve_url(flag_id),
        {
            "resolution": "actioned",
            "note": "Spam.",
            "take_down": {"reason_code": "spam", "reason": "Advertising."},
        },
        format="json",
    )

    assert response.status_code == 200, response.content
    only = Flag.objects.get(id=flag_id)
    assert (only.status, only.note) == ("actioned", "Spam.")
    assert Notification.objects.filter(event="flag.resolved").count() == 1


# --- the moderators' queue -------------------------------------------------------------


def test_the_queue_lists_flagged_objects_oldest_first_with_every_flag(
    public_place, user, other_user, moderator_client
):
    image = ImageFactory(location=public_place, uploader=public_place.submitter)
    first = flag(client_for(user), place_flags(public_place), "closed", "Shut in May.").json()
    flag(client_for(user), image_flags(image), "privacy")
    second = flag(client_for(other_user), place_flags(public_place), "duplicate").json()

    body = moderator_client.get(QUEUE).json()

    assert body["count"] == 2
    place_item, image_item = body["results"]
    assert place_item["target_type"] == "location"
    assert place_item["location"]["id"] == str(public_place.id)
    assert place_item["location"]["point"]["coordinates"] == [13.405, 52.52]
    assert [i["id"] for i in place_item["location"]["images"]] == [str(image.id)]
    assert [f["id"] for f in place_item["flags"]] == [first["id"], second["id"]]
    assert place_item["flags"][0]["reporter"] == user.username
    assert place_item["flags"][0]["comment"] == "Shut in May."
    assert image_item["target_type"] == "image"
    assert image_item["image"]["id"] == str(image.id)
    assert image_item["image"]["location"]["id"] == str(public_place.id)
    assert image_item["location"] is None


def test_the_queue_is_for_moderators_and_strict(public_place, user_client, moderator_client):
    assert_problem(APIClient().get(QUEUE), 401)
    assert_problem(user_client.get(QUEUE), 403)
    assert_problem(moderator_client.get(f"{QUEUE}?status=closed"), 400, field="status")
    assert moderator_client.get(f"{QUEUE}?status=dismissed").json()["count"] == 0


def test_the_queue_has_no_n_plus_one(moderator_client, django_assert_max_num_queries):
    for _ in range(5):
        place = LocationFactory(approved=True)
        image = ImageFactory(location=place)
        for _ in range(2):
            flag(client_for(UserFactory()), place_flags(place))
        flag(client_for(UserFactory()), image_flags(image))

    # auth, count, page, flags, photos, places, the places' photos and pending revisions,
    # the places' likely duplicates
    with django_assert_max_num_queries(9):
        assert len(moderator_client.get(QUEUE).json()["results"]) == 10


# --- resolving ---------------------------------------------------------------------------


@override_settings(FLAG_HIDE_THRESHOLD=2)
def test_dismissing_resolves_every_open_flag_and_unhides_the_place(
    public_place, moderator, moderator_client, map_feed, django_capture_on_commit_callbacks
):
    first_approved_at = public_place.approved_at
    reporters = [UserFactory(), UserFactory()]
    ids = [flag(client_for(r), place_flags(public_place)).json()["id"] for r in reporters]
    public_place.refresh_from_db()
    assert (public_place.status, public_place.approved_at) == ("hidden", None)

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.patch(
            resolve_url(ids[1]), {"resolution": "dismissed", "note": "Still open."}
        )

    assert response.status_code == 200, response.content
    body = response.json()
    assert body["resolution"] == "dismissed"
    assert sorted(f["id"] for f in body["flags"]) == sorted(ids)
    for each in Flag.objects.all():
        assert (each.status, each.resolved_by, each.note) == ("dismissed", moderator, "Still open.")
        assert each.resolved_at is not None
    public_place.refresh_from_db()
    assert public_place.status == "approved"
    # Put back, it keeps the time it was first approved (the OGC datetime filter's).
    assert public_place.approved_at == first_approved_at is not None
    assert APIClient().get(f"{API}/locations/{public_place.id}").status_code == 200
    assert map_feed.receive()["event"] == "location.approved"
    # Resolving again: 409; an unknown flag: 404.
    assert_problem(moderator_client.patch(resolve_url(ids[0]), {"resolution": "dismissed"}), 409)
    assert_problem(moderator_client.patch(resolve_url(999999), {"resolution": "dismissed"}), 404)


def test_each_reporter_is_notified_once(public_place, user, other_user, moderator_client):
    ids = [flag(client_for(u), place_flags(public_place)).json()["id"] for u in (user, other_user)]

    moderator_client.patch(resolve_url(ids[0]), {"resolution": "actioned"})
    # A later flag of the same user, resolved again, is a new notification of its own.
    again = flag(client_for(user), place_flags(public_place)).json()["id"]
    moderator_client.patch(resolve_url(again), {"resolution": "dismissed"})

    mails = Notification.objects.filter(event="flag.resolved")
    assert sorted((n.recipient_id, n.payload["flag_id"]) for n in mails) == sorted(
        [(user.id, ids[0]), (other_user.id, ids[1]), (user.id, again)]
    )
    assert {n.payload["resolution"] for n in mails if n.payload["flag_id"] in ids} == {"actioned"}


def test_actioned_with_a_take_down_rejects_the_place(
    public_place, user_client, moderator_client, map_feed, django_capture_on_commit_callbacks
):
    flag_id = flag(user_client, place_flags(public_place), "closed").json()["id"]

    with django_capture_on_commit_callbacks(execute=True):
        response = moderator_client.patch(
            resolve_url(flag_id),
            {
                "resolution": "actioned",
                "take_down": {"reason_code": "inaccurate", "reason": "Closed for good."},
            },
        )

    assert response.status_code == 200, response.content
    public_place.refresh_from_db()
    assert public_place.status == "rejected"
    assert map_feed.receive()["event"] == "location.removed"
    log = ModerationLog.objects.get(location_ref=public_place.id)
    assert (log.to_status, log.reason) == ("rejected", "Closed for good.")
    submitter_mail = Notification.objects.get(
        recipient=public_place.submitter, event="location.rejected"
    )
    assert submitter_mail.payload["take_down"] is True


def test_actioned_with_changes_edits_the_place_as_a_moderator(
    public_place, user_client, moderator_client
):
    flag_id = flag(user_client, place_flags(public_place), "wrong_location").json()["id"]

    response = moderator_client.patch(
        resolve_url(flag_id),
        {"resolution": "actioned", "changes": {"latitude": 52.53, "longitude": 13.41}},
    )

    assert response.status_code == 200, response.content
    public_place.refresh_from_db()
    assert (public_place.point.x, public_place.point.y) == (13.41, 52.53)
    assert public_place.status == "approved"  # a moderator's edit keeps it public
    assert Flag.objects.get().status == "actioned"


def test_a_take_down_needs_a_reason_and_nothing_is_written_on_refusal(
    public_place, user_client, moderator_client
):
    flag_id = flag(user_client, place_flags(public_place)).json()["id"]

    response = moderator_client.patch(
        resolve_url(flag_id), {"resolution": "actioned", "take_down": {"reason_code": "spam"}}
    )
    assert_problem(response, 400, field="take_down.reason")
    assert_problem(
        moderator_client.patch(
            resolve_url(flag_id), {"resolution": "dismissed", "changes": {"name": "New name"}}
        ),
        400,
        field="resolution",
    )
    assert_problem(
        moderator_client.patch(
            resolve_url(flag_id), {"resolution": "actioned", "changes": {"name": "x"}}
        ),
        400,
        field="changes.name",
    )
    assert Flag.objects.get().status == "open"
    public_place.refresh_from_db()
    assert public_place.status == "approved"


def test_a_photo_taken_down_through_its_flag_is_rejected(
    public_place, user_client, moderator_client
):
    image = ImageFactory(location=public_place, uploader=public_place.submitter)
    flag_id = flag(user_client, image_flags(image), "inappropriate").json()["id"]

    response = moderator_client.patch(
        resolve_url(flag_id),
        {
            "resolution": "actioned",
            "take_down": {"reason_code": "inappropriate", "reason": "Nudity."},
        },
    )

    assert response.status_code == 200, response.content
    image.refresh_from_db()
    assert image.moderation_status == "rejected"
    assert Notification.objects.filter(recipient=image.uploader, event="image.rejected").exists()
    assert_problem(moderator_client.patch(resolve_url(flag_id), {"resolution": "actioned"}), 409)


def test_only_moderators_resolve(public_place, user_client):
    flag_id = flag(user_client, place_flags(public_place)).json()["id"]
    assert_problem(user_client.patch(resolve_url(flag_id), {"resolution": "dismissed"}), 403)
    assert_problem(APIClient().patch(resolve_url(flag_id), {"resolution": "dismissed"}), 401)


def test_a_flag_id_beyond_the_column_is_404_not_500(moderator_client):
    assert_problem(moderator_client.patch(resolve_url(2**64), {"resolution": "dismissed"}), 404)


@override_settings(FLAG_HIDE_THRESHOLD=2)
def test_an_owners_edit_of_a_hidden_place_waits_for_review_after_unhiding(moderator_client):
    owner = UserFactory()
    place = LocationFactory(approved=True, submitter=owner, name="Corner bakery")
    ids = [flag(client_for(UserFactory()), place_flags(place)).json()["id"] for _ in range(2)]
    place.refresh_from_db()
    assert place.status == "hidden"

    edit = client_for(owner).patch(f"{API}/locations/{place.id}", {"name": "BUY CHEAP PILLS"})
    assert edit.status_code == 200, edit.content
    assert edit.json()["properties"]["pending_revision"]["changes"]["name"] == {
        "before": "Corner bakery",
        "after": "BUY CHEAP PILLS",
    }
    response = moderator_client.patch(resolve_url(ids[0]), {"resolution": "dismissed"})
    assert response.status_code == 200, response.content

    # Public again with the content a moderator approved; the edit still waits.
    public = APIClient().get(f"{API}/locations/{place.id}")
    assert public.json()["properties"]["name"] == "Corner bakery"
    queue = moderator_client.get(f"{API}/admin/locations", {"status": "pending"}).json()
    assert [item["id"] for item in queue["results"]] == [str(place.id)]
