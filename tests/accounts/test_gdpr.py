"""GDPR self-service: GET /me/export and DELETE /me, against the real database and S3."""

import io
import json
import zipfile

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import connection

from accounts.models import User
from locations.feed import MAP_GROUP
from locations.models import Location
from media_store import storage
from media_store.models import Image
from moderation.models import ModerationLog
from tests.accounts.factories import DEFAULT_PASSWORD
from tests.accounts.gdpr_world import (
    MODERATOR_USERNAME,
    OTHER_EMAIL,
    OTHER_USERNAME,
    SUBJECT_EMAIL,
    SUBJECT_FIRST_NAME,
    SUBJECT_LAST_NAME,
    SUBJECT_USERNAME,
    build_world,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def subject_client(api_client, world):
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {world.token.key}")
    return api_client


def _object_exists(key: str) -> bool:
    try:
        storage.get_object_bytes(key=key)
    except storage.StorageObjectNotFound:
        return False
    return True


def _tables_mentioning(needle: str) -> dict[str, int]:
    """Every table in the database whose rows, cast to text, contain `needle`."""
    found = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables "
            "WHERE table_schema = 'public' AND table_type = 'BASE TABLE'"
        )
        for (table,) in cursor.fetchall():
            quoted = connection.ops.quote_name(table)
            cursor.execute(
                f"SELECT count(*) FROM {quoted} AS t WHERE t::text ILIKE %s",  # noqa: S608
                [f"%{needle}%"],
            )
            count = cursor.fetchone()[0]
            if count:
                found[table] = count
    return found


# --- Export -------------------------------------------------------------------------------


def test_the_export_is_a_zip_of_all_the_users_data_and_photos(subject_client, world):
    response = subject_client.get("/api/v1/me/export")

    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert response["Content-Disposition"].startswith(
        f'attachment; filename="placemap-export-{SUBJECT_USERNAME}-'
    )
    assert "no-store" in response["Cache-Control"]
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    data = json.loads(archive.read("data.json"))

    assert data["format"] == "placemap-personal-data"
    assert data["profile"]["username"] == SUBJECT_USERNAME
    assert data["profile"]["email"] == SUBJECT_EMAIL
    assert data["profile"]["last_name"] == SUBJECT_LAST_NAME
    assert data["profile"]["is_moderator"] is True
    assert len(data["profile"]["api_tokens"]) == 1
    assert {p["id"]: p["status"] for p in data["locations"]} == {
        str(world.pending.id): "pending",
        str(world.approved.id): "approved",
        str(world.rejected.id): "rejected",
    }
    approved = next(p for p in data["locations"] if p["id"] == str(world.approved.id))
    assert (approved["longitude"], approved["latitude"]) == (2.35, 48.85)

    images = {i["id"]: i for i in data["images"]}
    assert set(images) == {
        str(world.photo.id),
        str(world.loose_photo.id),
        str(world.processing_photo.id),
    }
    assert archive.read(images[str(world.photo.id)]["file"]) == world.photo_bytes["photo"]
    assert archive.read(images[str(world.loose_photo.id)]["file"]) == world.photo_bytes["loose"]
    assert images[str(world.photo.id)]["file"] == f"photos/{world.photo.id}.jpg"
    assert images[str(world.processing_photo.id)]["file"] is None  # no object yet

    decisions = sorted((d["location_id"], d["to_status"]) for d in data["moderation_decisions"])
    assert decisions == sorted(
        [(str(world.approved.id), "approved"), (str(world.rejected.id), "rejected")]
    )
    rejected = next(d for d in data["moderation_decisions"] if d["to_status"] == "rejected")
    assert (rejected["reason_code"], rejected["reason"]) == (
        "duplicate",
        "Already on the map as the old shed.",
    )
    assert {n["event"] for n in data["notifications"]} == {
        "location.approved",
        "location.rejected",
    }
    assert {n["payload"]["location_id"] for n in data["notifications"]} == {
        str(world.approved.id),
        str(world.rejected.id),
    }
    assert "README.txt" in archive.namelist()


def test_the_export_holds_nothing_of_anyone_else(subject_client, world):
    response = subject_client.get("/api/v1/me/export")
    archive = zipfile.ZipFile(io.BytesIO(b"".join(response.streaming_content)))
    everything = b"".join(archive.read(name) for name in archive.namelist()).decode("latin-1")

    for foreign in (
        OTHER_USERNAME,
        OTHER_EMAIL,
        "Otto's secret garden",
        "Otto's private address",
        str(world.other_place.id),
        str(world.other_photo.id),
        "otto",
        MODERATOR_USERNAME,
        "mona@mail.example",
        '"moderator":',
        '"moderator_id"',
        "password",
        world.token.key,
    ):
        assert foreign not in everything, foreign
    # The subject's own decision on Otto's place is Otto's place's history, not theirs.
    assert len(json.loads(archive.read("data.json"))["moderation_decisions"]) == 2


def test_the_export_needs_a_logged_in_user(api_client):
    response = api_client.get("/api/v1/me/export")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


# --- Erasure ------------------------------------------------------------------------------


def test_erasure_keeping_places_leaves_no_personal_data_and_kills_the_token(
    subject_client, world, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        response = subject_client.delete(
            "/api/v1/me", {"password": DEFAULT_PASSWORD, "places": "keep"}, format="json"
        )

    assert response.status_code == 200, response.content
    assert response.json() == {"places_deleted": 0, "places_anonymized": 3, "images_deleted": 1}
    assert subject_client.get("/api/v1/me").status_code == 401
    assert subject_client.get("/api/v1/me/export").status_code == 401
    assert not User.objects.filter(pk=world.subject.pk).exists()

    # The places stay on the map, nobody's; so do the photos on them.
    kept = Location.objects.filter(pk__in=[world.pending.pk, world.approved.pk, world.rejected.pk])
    assert kept.count() == 3
    assert set(kept.values_list("submitter", flat=True)) == {None}
    photo = Image.objects.get(pk=world.photo.pk)
    assert photo.uploader_id is None
    assert _object_exists(photo.key)
    # The never-attached upload was only theirs: row and objects are gone.
    assert not Image.objects.filter(pk=world.loose_photo.pk).exists()
    assert not any(_object_exists(key) for key in world.loose_photo.storage_keys)
    # Their decision as a moderator stays in the audit trail, without them.
    assert ModerationLog.objects.filter(location=world.other_place, moderator=None).count() == 1

    for needle in (SUBJECT_USERNAME, SUBJECT_EMAIL, SUBJECT_FIRST_NAME, SUBJECT_LAST_NAME):
        assert _tables_mentioning(needle) == {}, needle
    # The other user is untouched.
    assert _tables_mentioning(OTHER_EMAIL)


def test_erasure_deleting_places_removes_them_their_photos_and_their_map_markers(
    subject_client, world, django_capture_on_commit_callbacks
):
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(MAP_GROUP, channel)
    try:
        with django_capture_on_commit_callbacks(execute=True):
            response = subject_client.delete(
                "/api/v1/me", {"password": DEFAULT_PASSWORD, "places": "delete"}, format="json"
            )
        assert response.status_code == 200, response.content
        event = async_to_sync(layer.receive)(channel)
    finally:
        async_to_sync(layer.group_discard)(MAP_GROUP, channel)

    assert response.json() == {"places_deleted": 3, "places_anonymized": 0, "images_deleted": 3}
    assert (event["event"], event["id"]) == ("location.removed", str(world.approved.id))
    assert not Location.objects.filter(
        pk__in=[world.pending.pk, world.approved.pk, world.rejected.pk]
    ).exists()
    assert not Image.objects.filter(
        pk__in=[world.photo.pk, world.loose_photo.pk, world.processing_photo.pk]
    ).exists()
    for image in (world.photo, world.loose_photo):
        assert not any(_object_exists(key) for key in image.storage_keys)
    # The audit trail of the deleted places survives by id, without the place.
    assert ModerationLog.objects.filter(location_ref=world.rejected.id, location=None).exists()
    # Otto keeps everything.
    assert Location.objects.filter(pk=world.other_place.pk).exists()
    assert _object_exists(world.other_photo.key)
    for needle in (SUBJECT_USERNAME, SUBJECT_EMAIL, SUBJECT_FIRST_NAME, SUBJECT_LAST_NAME):
        assert _tables_mentioning(needle) == {}, needle


def test_erasure_refuses_a_wrong_password_and_keeps_everything(subject_client, world):
    response = subject_client.delete(
        "/api/v1/me", {"password": "not-my-password", "places": "delete"}, format="json"
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"password": ["Wrong password."]}
    assert User.objects.filter(pk=world.subject.pk).exists()
    assert Location.objects.filter(submitter=world.subject).count() == 3
    assert subject_client.get("/api/v1/me").status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"places": "keep"}, "password"),
        ({"password": DEFAULT_PASSWORD}, "places"),
        ({"password": DEFAULT_PASSWORD, "places": "maybe"}, "places"),
    ],
)
def test_erasure_requires_a_password_and_an_explicit_choice(subject_client, world, body, field):
    response = subject_client.delete("/api/v1/me", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert User.objects.filter(pk=world.subject.pk).exists()


def test_erasure_needs_a_logged_in_user(api_client):
    response = api_client.delete("/api/v1/me", {"password": "x", "places": "keep"}, format="json")
    assert response.status_code == 401


def test_the_export_is_a_503_with_retry_after_while_storage_is_down(subject_client, world):
    breaker = storage.breaker()
    breaker.open()  # what a run of storage failures does
    try:
        response = subject_client.get("/api/v1/me/export")
    finally:
        breaker.close()

    assert response.status_code == 503
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) >= 1
    assert "retry the export later" in response.json()["detail"]
