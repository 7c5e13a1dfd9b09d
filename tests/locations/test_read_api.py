"""Detail, /me/locations and /categories, with the visibility matrix."""

import uuid

import pytest

from tests.locations.conftest import API, MIGRATED_CATEGORIES
from tests.media_store.factories import ImageFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def places(user, place_of):
    """One place of `user` in each status."""
    return {status: place_of(user, status) for status in ("approved", "pending", "rejected")}


@pytest.mark.parametrize(
    ("who", "sees"),
    [
        ("api_client", {"approved"}),
        ("other_client", {"approved"}),
        ("user_client", {"approved", "pending", "rejected"}),  # the owner
        ("moderator_client", {"approved", "pending", "rejected"}),
    ],
)
def test_detail_visibility_matrix(request, places, who, sees):
    client = request.getfixturevalue(who)
    for status, place in places.items():
        response = client.get(f"{API}/locations/{place.id}")
        if status in sees:
            assert response.status_code == 200, (who, status)
            assert response.json()["properties"]["status"] == status
        else:
            assert response.status_code == 404, (who, status)
            assert response["Content-Type"] == "application/problem+json"


def test_an_invisible_place_and_an_unknown_id_answer_the_same_404(other_client, places):
    hidden = other_client.get(f"{API}/locations/{places['pending'].id}")
    unknown = other_client.get(f"{API}/locations/{uuid.uuid4()}")

    assert hidden.status_code == unknown.status_code == 404
    assert hidden.json()["detail"] == unknown.json()["detail"]


def test_a_malformed_id_is_404_and_fixed_words_are_not_taken_for_ids(api_client):
    assert api_client.get(f"{API}/locations/not-a-uuid").status_code == 404
    # /search and /viewport reach their own views (400: parameters missing), not detail.
    assert api_client.get(f"{API}/locations/search").status_code == 400
    assert api_client.get(f"{API}/locations/viewport").status_code == 400


def test_detail_is_a_feature_with_ready_images_only(api_client, user, place_of):
    place = place_of(user, "approved", lon=2.2945, lat=48.8584, address="Champ de Mars")
    ready = ImageFactory(location=place, uploader=user)
    ImageFactory(location=place, uploader=user, status="processing")

    feature = api_client.get(f"{API}/locations/{place.id}").json()

    assert feature["type"] == "Feature"
    assert feature["id"] == str(place.id)
    assert feature["geometry"] == {"type": "Point", "coordinates": [2.2945, 48.8584]}
    props = feature["properties"]
    assert props["address"] == "Champ de Mars"
    assert props["approved_at"] is not None
    assert [image["id"] for image in props["images"]] == [str(ready.id)]
    assert {"id", "url", "thumbnail_url", "width", "height"} <= set(props["images"][0])


def test_location_public_feature_matches_the_detail_endpoint(api_client, user, place_of):
    from locations.selectors import location_public_feature

    place = place_of(user, "approved")
    ImageFactory(location=place, uploader=user)

    feature = location_public_feature(location_id=place.id)
    served = api_client.get(f"{API}/locations/{place.id}").json()

    # Presigned URLs included: they are signed at their window's start.
    assert feature == served
    assert feature["properties"]["images"][0]["url"].startswith("http")


def test_detail_makes_a_fixed_number_of_queries_whatever_the_photo_count(
    api_client, user, place_of, django_assert_max_num_queries
):
    place = place_of(user, "approved")
    for _ in range(8):
        ImageFactory(location=place, uploader=user)

    # statement timeout + place + its photos (+ the test's savepoint and its release)
    with django_assert_max_num_queries(5) as captured:
        response = api_client.get(f"{API}/locations/{place.id}")
    assert len(response.json()["properties"]["images"]) == 8
    statements = [q["sql"] for q in captured.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) == 3
    assert "statement_timeout" in statements[0]


def test_my_locations_lists_the_callers_places_in_every_status(
    user_client, places, other_user, place_of
):
    place_of(other_user, "approved")

    body = user_client.get(f"{API}/me/locations").json()

    assert body["type"] == "FeatureCollection"
    assert body["count"] == 3
    assert {f["properties"]["status"] for f in body["features"]} == {
        "approved",
        "pending",
        "rejected",
    }
    assert {f["id"] for f in body["features"]} == {str(p.id) for p in places.values()}


def test_my_locations_needs_a_user(api_client):
    assert api_client.get(f"{API}/me/locations").status_code == 401


def test_my_locations_has_no_n_plus_one(user_client, user, place_of, django_assert_max_num_queries):
    for _ in range(12):
        ImageFactory(location=place_of(user, "pending"), uploader=user)

    # count + page + photos of the page + their pending revisions + whether the caller
    # moderates (which of the photos they may see: pending ones only if their own)
    with django_assert_max_num_queries(5):
        body = user_client.get(f"{API}/me/locations?limit=10").json()
    assert len(body["features"]) == 10
    assert body["next"] is not None
    assert all(len(f["properties"]["images"]) == 1 for f in body["features"])


def test_my_locations_show_my_edit_awaiting_review_as_my_detail_does(user_client, places):
    approved = places["approved"]
    edit = user_client.patch(
        f"{API}/locations/{approved.id}", {"name": "Renamed by me"}, format="json"
    )
    assert edit.status_code == 200, edit.content

    listed = {f["id"]: f for f in user_client.get(f"{API}/me/locations").json()["features"]}
    detail = user_client.get(f"{API}/locations/{approved.id}").json()

    revision = listed[str(approved.id)]["properties"]["pending_revision"]
    assert revision is not None
    assert revision["changes"]["name"] == {"before": approved.name, "after": "Renamed by me"}
    assert revision == detail["properties"]["pending_revision"]
    assert listed[str(approved.id)]["properties"]["name"] == approved.name
    assert all(
        listed[str(p.id)]["properties"]["pending_revision"] is None
        for p in (places["pending"], places["rejected"])
    )


def test_categories_lists_every_slug_and_label(api_client):
    body = api_client.get(f"{API}/categories").json()
    assert [(c["slug"], c["label"]) for c in body] == list(MIGRATED_CATEGORIES.items())


def test_a_moderators_own_list_holds_only_their_own_places(moderator_client, moderator, places):
    body = moderator_client.get(f"{API}/me/locations").json()
    assert body["count"] == 0
    assert body["features"] == []


@pytest.mark.parametrize("who", ["api_client", "user_client", "other_client", "moderator_client"])
def test_categories_are_public(request, who):
    assert request.getfixturevalue(who).get(f"{API}/categories").status_code == 200
