import math
import uuid

import pytest
from django.test import override_settings

from locations.models import Location
from media_store.models import Image
from notifications.models import Notification
from tests.locations.conftest import API
from tests.media_store.factories import ImageFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

VALID = {
    "name": "  Tempelhofer Feld  ",
    "description": "Former airport, now a park.",
    "category": "park",
    "address": "Tempelhofer Damm, Berlin",
    "latitude": 52.4731,
    "longitude": 13.4039,
}


def post(client, body, **headers):
    return client.post(f"{API}/locations", body, format="json", headers=headers)


def test_a_user_submits_a_pending_place_as_a_feature(user_client, user):
    response = post(user_client, VALID)

    assert response.status_code == 201, response.content
    feature = response.json()
    assert feature["type"] == "Feature"
    assert feature["geometry"] == {"type": "Point", "coordinates": [13.4039, 52.4731]}
    props = feature["properties"]
    assert props["name"] == "Tempelhofer Feld"  # trimmed
    assert props["status"] == "pending"
    assert props["approved_at"] is None
    assert props["images"] == []
    location = Location.objects.get(id=feature["id"])
    assert location.submitter == user
    assert (location.point.x, location.point.y) == (13.4039, 52.4731)


def test_read_only_and_unknown_fields_sent_by_the_client_are_ignored(user_client, other_user):
    body = {
        **VALID,
        "status": "approved",
        "approved_at": "2020-01-01T00:00:00Z",
        "id": str(uuid.uuid4()),
        "submitted_by": other_user.pk,
        "submitter": other_user.pk,
        "is_admin": True,
    }
    response = post(user_client, body)

    assert response.status_code == 201
    location = Location.objects.get(id=response.json()["id"])
    assert location.id != uuid.UUID(body["id"])
    assert location.status == "pending"
    assert location.approved_at is None
    assert location.submitter_id != other_user.pk


def test_anonymous_cannot_submit(api_client):
    response = post(api_client, VALID)
    assert response.status_code == 401
    assert Location.objects.count() == 0


def test_submitting_records_a_submission_notification_for_the_submitter(user_client, user):
    response = post(user_client, VALID)

    notification = Notification.objects.get(event="location.submitted")
    assert notification.recipient == user
    assert notification.payload["location_id"] == response.json()["id"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("latitude", 91),
        ("latitude", -90.0001),
        ("longitude", -181),
        ("longitude", 180.5),
        ("latitude", "NaN"),
        ("longitude", "Infinity"),
        ("latitude", "-Infinity"),
        ("latitude", "abc"),
        ("latitude", True),
        ("latitude", None),
        ("name", "ab"),
        ("name", "   ab   "),
        ("name", "x" * 121),
        ("description", "d" * 5001),
        ("address", "a" * 256),
        ("category", "nightclub"),
        ("category", ""),
        ("image_ids", ["not-a-uuid"]),
        ("image_ids", [str(uuid.uuid4()) for _ in range(11)]),
        ("image_ids", "not-a-list"),
    ],
)
def test_it_rejects_bad_input_naming_the_field(user_client, field, value):
    response = post(user_client, {**VALID, field: value})

    assert_problem(response, 400, field=field)
    assert Location.objects.count() == 0


@pytest.mark.parametrize("missing", ["name", "category", "latitude", "longitude"])
def test_it_requires_the_essential_fields(user_client, missing):
    body = {k: v for k, v in VALID.items() if k != missing}
    assert_problem(post(user_client, body), 400, field=missing)


def test_it_rejects_nan_in_a_json_body_rather_than_storing_it(user_client):
    raw = '{"name": "Somewhere", "category": "park", "latitude": NaN, "longitude": 1.0}'
    response = user_client.post(f"{API}/locations", raw, content_type="application/json")

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert Location.objects.count() == 0


def test_it_attaches_the_submitters_own_unattached_images(user_client, user):
    first, second = ImageFactory(uploader=user), ImageFactory(uploader=user)

    response = post(user_client, {**VALID, "image_ids": [str(first.id), str(second.id)]})

    assert response.status_code == 201, response.content
    feature = response.json()
    assert {image["id"] for image in feature["properties"]["images"]} == {
        str(first.id),
        str(second.id),
    }
    image = feature["properties"]["images"][0]
    assert image["url"].startswith("http")
    assert image["width"] == 800
    assert Image.objects.filter(location_id=feature["id"]).count() == 2


def test_it_refuses_another_users_image_and_writes_nothing(user_client, user, other_user):
    mine, theirs = ImageFactory(uploader=user), ImageFactory(uploader=other_user)

    response = post(user_client, {**VALID, "image_ids": [str(mine.id), str(theirs.id)]})

    body = assert_problem(response, 400, field="image_ids")
    assert str(theirs.id) in body["errors"]["image_ids"][0]
    assert str(mine.id) not in body["errors"]["image_ids"][0]
    assert Location.objects.count() == 0
    mine.refresh_from_db()
    assert mine.location_id is None


def test_it_refuses_an_image_attached_already(user_client, user, place_of):
    attached = ImageFactory(uploader=user, location=place_of(user, "pending"))

    response = post(user_client, {**VALID, "image_ids": [str(attached.id)]})

    assert_problem(response, 400, field="image_ids")
    assert Location.objects.count() == 1


def test_it_refuses_an_unknown_image_id(user_client):
    response = post(user_client, {**VALID, "image_ids": [str(uuid.uuid4())]})
    assert_problem(response, 400, field="image_ids")


def test_it_refuses_the_same_image_twice_in_one_request(user_client, user):
    image = ImageFactory(uploader=user)
    response = post(user_client, {**VALID, "image_ids": [str(image.id), str(image.id)]})
    assert_problem(response, 400, field="image_ids")


def test_the_service_rechecks_images_under_lock_when_the_serializer_was_bypassed(user, place_of):
    """The serializer's check is advisory; the service is the authority (a concurrent
    submission may attach the photo between the two)."""
    from django.core.exceptions import ValidationError

    from locations.services import location_create

    taken = ImageFactory(uploader=user, location=place_of(user, "pending"))

    with pytest.raises(ValidationError) as caught:
        location_create(
            submitter=user,
            name="Racing place",
            category="park",
            latitude=1.0,
            longitude=2.0,
            image_ids=[taken.id],
        )
    assert "image_ids" in caught.value.message_dict
    assert not Location.objects.filter(name="Racing place").exists()


def test_the_create_serializer_validates_rows_without_a_request_when_no_images_are_sent():
    from locations.api.serializers import LocationCreateInputSerializer

    row = LocationCreateInputSerializer(data={**VALID, "latitude": "52.1", "longitude": "13"})

    assert row.is_valid(), row.errors
    assert math.isclose(row.validated_data["latitude"], 52.1)
    assert row.validated_data.get("image_ids", []) == []

    with_images = LocationCreateInputSerializer(data={**VALID, "image_ids": [str(uuid.uuid4())]})
    assert not with_images.is_valid()
    assert "image_ids" in with_images.errors


# --- Idempotency-Key ---------------------------------------------------------------------


def test_a_retry_with_the_same_key_and_body_replays_without_a_second_row(user_client):
    first = post(user_client, VALID, **{"Idempotency-Key": "key-1"})
    again = post(user_client, VALID, **{"Idempotency-Key": "key-1"})

    assert first.status_code == again.status_code == 201
    assert again.json() == first.json()
    assert again["Idempotent-Replayed"] == "true"
    assert Location.objects.count() == 1


def test_the_same_key_with_another_body_is_422(user_client):
    post(user_client, VALID, **{"Idempotency-Key": "key-2"})
    response = post(
        user_client, {**VALID, "name": "Something else"}, **{"Idempotency-Key": "key-2"}
    )

    assert response.status_code == 422
    assert response["Content-Type"] == "application/problem+json"
    assert Location.objects.count() == 1


def test_keys_are_per_user(user_client, other_client):
    post(user_client, VALID, **{"Idempotency-Key": "shared"})
    response = post(other_client, VALID, **{"Idempotency-Key": "shared"})

    assert response.status_code == 201
    assert "Idempotent-Replayed" not in response
    assert Location.objects.count() == 2


def test_a_failed_request_releases_its_key_for_a_corrected_retry(user_client):
    bad = post(user_client, {**VALID, "latitude": 100}, **{"Idempotency-Key": "key-3"})
    good = post(user_client, {**VALID, "latitude": 10}, **{"Idempotency-Key": "key-3"})

    assert bad.status_code == 400
    assert good.status_code == 201
    assert Location.objects.count() == 1


def test_an_overlong_idempotency_key_is_refused(user_client):
    response = post(user_client, VALID, **{"Idempotency-Key": "k" * 256})
    assert_problem(response, 400, field="Idempotency-Key")
    assert Location.objects.count() == 0


def test_without_a_key_each_post_creates_a_place(user_client):
    post(user_client, VALID)
    post(user_client, VALID)
    assert Location.objects.count() == 2


# --- Throttling ----------------------------------------------------------------------------


def test_submissions_are_throttled_per_user_with_retry_after(user_client, other_client):
    rates = {
        "auth": "20/minute",
        "submissions": "2/hour",
        "reads": "600/minute",
        "uploads": "1/hour",
    }
    with override_settings(REST_FRAMEWORK={**_rest_framework(), "DEFAULT_THROTTLE_RATES": rates}):
        assert post(user_client, VALID).status_code == 201
        assert post(user_client, VALID).status_code == 201
        throttled = post(user_client, VALID)
        assert other_client_ok(other_client)

    assert throttled.status_code == 429
    assert throttled["Content-Type"] == "application/problem+json"
    assert 1 <= int(throttled["Retry-After"]) <= 3600
    assert Location.objects.count() == 3  # two from user, one from other_user


def other_client_ok(client) -> bool:
    return post(client, VALID).status_code == 201


def _rest_framework() -> dict:
    from django.conf import settings

    return dict(settings.REST_FRAMEWORK)
