"""The OpenAPI schema is a contract generated clients can trust (config.schema).

The schema the server publishes (GET /api/v1/schema) is valid OpenAPI 3
(openapi-spec-validator), and every operation in it is called with a real, valid request
(and a few wrong ones) through the whole stack, real PostGIS, Redis and S3 underneath:
the status must be documented for that operation, the Content-Type one of the media types
documented for that status, and the body valid against that schema (jsonschema with
OpenAPI 3.0's nullable, through openapi-schema-validator). An operation added without a
case here fails test_every_operation_is_called. Every paginated list answers the same
envelope and the same RFC 8288 Link header.
"""

import json
import math
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import mapbox_vector_tile
import pytest
from openapi_schema_validator import OAS30Validator, oas30_format_checker
from openapi_spec_validator import validate as validate_spec
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.services import suspension_create
from locations.models import LocationRevision
from locations.services import location_create, location_update
from media_store.models import ImageModeration, ImageStatus
from moderation.services import (
    FLAG_TARGET_IMAGE,
    FLAG_TARGET_LOCATION,
    flag_create,
    location_approve,
)
from tests.accounts.factories import DEFAULT_PASSWORD, ModeratorFactory, UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory
from tests.media_store.samples import jpeg

pytestmark = pytest.mark.django_db

API = "/api/v1"


def token_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {Token.objects.create(user=user).key}")
    return client


def place(owner, *, lon: float, lat: float, approved: bool = True, name: str = "Contract cafe"):
    from django.contrib.gis.geos import Point

    return LocationFactory(
        submitter=owner,
        point=Point(lon, lat, srid=4326),
        approved=approved,
        name=name,
        **({} if approved else {"status": "pending"}),
    )


@dataclass
class World:
    """Users with tokens, places in each status, a photo, a moderation trail."""

    anonymous: APIClient
    owner: APIClient
    moderator: APIClient
    owner_user: object
    moderator_user: object
    approved: object
    approved_2: object
    pending: object
    image: object
    decided: object  # a place with a moderation trail, edited since: two versions
    first_version: object  # its first revision (what a revert restores)
    photo_pending: object  # a photo on an approved place awaiting moderation
    reporter: APIClient  # has an open flag on approved_2
    reporter_user: object
    flag: object  # that flag
    member: object  # an account in good standing (suspend it)
    suspended: APIClient  # a suspended account
    suspended_user: object
    suspended_moderator: APIClient  # a moderator whose own account is suspended


@pytest.fixture
def world(db) -> World:
    owner, moderator, reporter = UserFactory(), ModeratorFactory(), UserFactory()
    approved = place(owner, lon=13.40, lat=52.52, name="Contract cafe one")
    approved_2 = place(owner, lon=13.41, lat=52.53, name="Contract cafe two")
    pending = place(owner, lon=13.42, lat=52.51, approved=False, name="Contract pending")
    image = ImageFactory(uploader=owner, location=approved, status=ImageStatus.READY)
    # A moderation trail for the log: a place submitted and approved through the services.
    decided = location_create(
        submitter=owner, name="Decided place", category="park", latitude=52.5, longitude=13.39
    )
    location_approve(location_id=decided.id, moderator=moderator)
    first_version = LocationRevision.objects.get(location=decided, version=1)
    decided = location_update(location=decided, actor=moderator, name="Decided place, renamed")
    photo_pending = ImageFactory(
        uploader=owner, location=approved_2, moderation_status=ImageModeration.PENDING
    )
    flag = flag_create(
        reporter=reporter, target_type=FLAG_TARGET_LOCATION, target_id=approved_2.id, reason="spam"
    )
    suspended_user, suspended_moderator = UserFactory(), ModeratorFactory()
    for account in (suspended_user, suspended_moderator):
        suspension_create(user=account, reason="Spam", created_by=moderator)
    approved.refresh_from_db()
    return World(
        anonymous=APIClient(),
        owner=token_client(owner),
        moderator=token_client(moderator),
        owner_user=owner,
        moderator_user=moderator,
        approved=approved,
        approved_2=approved_2,
        pending=pending,
        image=image,
        decided=decided,
        first_version=first_version,
        photo_pending=photo_pending,
        reporter=token_client(reporter),
        reporter_user=reporter,
        flag=flag,
        member=UserFactory(),
        suspended=token_client(suspended_user),
        suspended_user=suspended_user,
        suspended_moderator=token_client(suspended_moderator),
    )


@pytest.fixture
def spec(api_client, db) -> dict:
    response = api_client.get(f"{API}/schema", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


# --- Checking one answer against the schema -------------------------------------------

JSON_MEDIA = ("application/json", "application/geo+json", "application/problem+json")
MVT = "application/vnd.mapbox-vector-tile"


def body_of(response) -> bytes:
    if getattr(response, "streaming", False):
        return b"".join(
            chunk if isinstance(chunk, bytes) else chunk.encode()
            for chunk in response.streaming_content
        )
    return response.content


def check_answer(spec: dict, method: str, path: str, response, status: int) -> None:
    """`response` is `status`, documented for the operation, with a documented media
    type and a body valid against its schema; documented headers it must send are there."""
    body = body_of(response)
    assert response.status_code == status, body[:500]
    operation = spec["paths"][API + path][method.lower()]
    documented = operation["responses"].get(str(status))
    assert documented is not None, f"{method} {path}: {status} is not documented"
    content = documented.get("content")
    if not content:
        assert body == b"", f"{method} {path}: {status} documents no body"
        return
    media_type = response["Content-Type"].split(";")[0].strip()
    assert media_type in content, f"{method} {path}: {media_type} not in {list(content)}"
    if media_type in JSON_MEDIA:
        schema = {**content[media_type]["schema"], "components": spec["components"]}
        OAS30Validator(schema, format_checker=oas30_format_checker).validate(json.loads(body))
    elif media_type == "text/csv":
        assert body.startswith(b"id,")
    elif media_type == MVT:
        assert mapbox_vector_tile.decode(body)["places"]["features"]
    else:
        assert body[:2] == b"PK"  # a ZIP
    for header in documented.get("headers", {}):
        if header in ("Retry-After", "WWW-Authenticate"):
            assert response.has_header(header), f"{method} {path}: {status} without {header}"


# --- One real call per operation -------------------------------------------------------


@dataclass
class Call:
    method: str
    path: str  # as in the schema, without /api/v1
    status: int
    send: Callable[[World], object]


def _id(path: str, value) -> str:
    return path.replace("{id}", str(value))


OPERATIONS = [
    Call(
        "POST",
        "/auth/register",
        201,
        lambda w: w.anonymous.post(
            f"{API}/auth/register",
            {"username": "contract", "email": "c@example.org", "password": DEFAULT_PASSWORD},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/auth/token",
        200,
        lambda w: w.anonymous.post(
            f"{API}/auth/token",
            {"username": w.owner_user.username, "password": DEFAULT_PASSWORD},
            format="json",
        ),
    ),
    Call(
        "DELETE",
        "/auth/token",
        204,
        lambda w: token_client(UserFactory()).delete(f"{API}/auth/token"),
    ),
    Call("GET", "/me", 200, lambda w: w.owner.get(f"{API}/me")),
    Call(
        "DELETE",
        "/me",
        200,
        lambda w: token_client(UserFactory()).delete(
            f"{API}/me", {"password": DEFAULT_PASSWORD, "places": "keep"}, format="json"
        ),
    ),
    Call("GET", "/me/export", 200, lambda w: w.owner.get(f"{API}/me/export")),
    Call("GET", "/me/locations", 200, lambda w: w.owner.get(f"{API}/me/locations", {"limit": 2})),
    Call("GET", "/categories", 200, lambda w: w.anonymous.get(f"{API}/categories")),
    Call(
        "POST",
        "/locations",
        201,
        lambda w: w.owner.post(
            f"{API}/locations",
            {"name": "New place", "category": "cafe", "latitude": 52.5, "longitude": 13.4},
            format="json",
        ),
    ),
    Call(
        "GET",
        "/locations/search",
        200,
        lambda w: w.anonymous.get(
            f"{API}/locations/search", {"lat": 52.52, "lon": 13.40, "radius": 5000, "limit": 1}
        ),
    ),
    Call(
        "GET",
        "/locations/viewport",
        200,
        lambda w: w.anonymous.get(f"{API}/locations/viewport", {"bbox": "13.3,52.4,13.5,52.6"}),
    ),
    Call(
        "GET",
        "/locations/{id}",
        200,
        lambda w: w.anonymous.get(_id(f"{API}/locations/{{id}}", w.approved.id)),
    ),
    Call(
        "PATCH",
        "/locations/{id}",
        200,
        lambda w: w.owner.patch(
            _id(f"{API}/locations/{{id}}", w.pending.id), {"name": "Renamed"}, format="json"
        ),
    ),
    Call(
        "DELETE",
        "/locations/{id}",
        204,
        lambda w: w.owner.delete(_id(f"{API}/locations/{{id}}", w.pending.id)),
    ),
    Call(
        "GET",
        "/locations/export",
        200,
        lambda w: w.anonymous.get(f"{API}/locations/export", {"format": "geojson"}),
    ),
    Call(
        "POST",
        "/images/upload",
        201,
        lambda w: w.owner.post(
            f"{API}/images/upload",
            {"file": _jpeg_upload()},
            format="multipart",
        ),
    ),
    Call(
        "GET", "/images/{id}", 200, lambda w: w.owner.get(_id(f"{API}/images/{{id}}", w.image.id))
    ),
    Call(
        "DELETE",
        "/images/{id}",
        204,
        lambda w: w.owner.delete(_id(f"{API}/images/{{id}}", w.image.id)),
    ),
    Call(
        "GET",
        "/admin/locations",
        200,
        lambda w: w.moderator.get(f"{API}/admin/locations", {"limit": 1}),
    ),
    Call(
        "PATCH",
        "/admin/locations/{id}/status",
        200,
        lambda w: w.moderator.patch(
            _id(f"{API}/admin/locations/{{id}}/status", w.pending.id),
            {"status": "approved"},
            format="json",
        ),
    ),
    Call(
        "GET",
        "/admin/locations/{id}/log",
        200,
        lambda w: w.moderator.get(_id(f"{API}/admin/locations/{{id}}/log", w.decided.id)),
    ),
    Call(
        "GET",
        "/locations/{id}/revisions",
        200,
        lambda w: w.owner.get(_id(f"{API}/locations/{{id}}/revisions", w.decided.id)),
    ),
    Call(
        "POST",
        "/admin/locations/{id}/revert",
        200,
        lambda w: w.moderator.post(
            _id(f"{API}/admin/locations/{{id}}/revert", w.decided.id),
            {"revision": str(w.first_version.id), "expected_version": w.decided.version},
            format="json",
        ),
    ),
    Call(
        "GET",
        "/admin/images",
        200,
        lambda w: w.moderator.get(f"{API}/admin/images", {"limit": 1}),
    ),
    Call(
        "PATCH",
        "/admin/images/{id}/status",
        200,
        lambda w: w.moderator.patch(
            _id(f"{API}/admin/images/{{id}}/status", w.photo_pending.id),
            {"status": "approved", "expected_version": w.photo_pending.version},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/locations/{id}/flags",
        201,
        lambda w: w.owner.post(
            _id(f"{API}/locations/{{id}}/flags", w.approved.id),
            {"reason": "closed", "comment": "Boarded up since spring."},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/images/{id}/flags",
        201,
        lambda w: w.reporter.post(
            _id(f"{API}/images/{{id}}/flags", w.image.id), {"reason": "privacy"}, format="json"
        ),
    ),
    Call("GET", "/admin/flags", 200, lambda w: w.moderator.get(f"{API}/admin/flags", {"limit": 1})),
    Call(
        "PATCH",
        "/admin/flags/{id}",
        200,
        lambda w: w.moderator.patch(
            _id(f"{API}/admin/flags/{{id}}", w.flag.id),
            {"resolution": "dismissed", "note": "Still open, checked."},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/admin/users/{username}/suspend",
        200,
        lambda w: w.moderator.post(
            f"{API}/admin/users/{w.member.username}/suspend",
            {"reason": "Posts spam.", "until": "2099-01-31T00:00:00Z"},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/admin/users/{username}/unsuspend",
        200,
        lambda w: w.moderator.post(f"{API}/admin/users/{w.suspended_user.username}/unsuspend"),
    ),
    Call(
        "GET",
        "/tiles/{z}/{x}/{y}.mvt",
        200,
        lambda w: w.anonymous.get(_tile_url(13.40, 52.52, 12)),
    ),
    Call("GET", "/tiles.json", 200, lambda w: w.anonymous.get(f"{API}/tiles.json")),
    # --- issue 16: duplicates, merge, trust (kept together at the end for merging) ---
    Call(
        "GET",
        "/locations/duplicates",
        200,
        lambda w: w.anonymous.get(
            f"{API}/locations/duplicates", {"lat": 52.52, "lon": 13.40, "name": "Contract cafe"}
        ),
    ),
    Call(
        "POST",
        "/admin/locations/{id}/merge",
        200,
        lambda w: w.moderator.post(
            _id(f"{API}/admin/locations/{{id}}/merge", w.approved_2.id),
            {"into": str(w.approved.id)},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/admin/users/{username}/trust",
        200,
        lambda w: w.moderator.post(f"{API}/admin/users/{w.owner_user.username}/trust"),
    ),
    Call(
        "DELETE",
        "/admin/users/{username}/trust",
        200,
        lambda w: w.moderator.delete(f"{API}/admin/users/{w.owner_user.username}/trust"),
    ),
    # --- end of issue 16 ---
    # --- issue 18: password reset and change (docs/accounts.md) ---
    Call(
        "POST",
        "/auth/password/reset",
        202,
        lambda w: w.anonymous.post(
            f"{API}/auth/password/reset", {"email": w.owner_user.email}, format="json"
        ),
    ),
    Call(
        "POST",
        "/auth/password/reset/confirm",
        204,
        lambda w: w.anonymous.post(
            f"{API}/auth/password/reset/confirm", _reset_link(UserFactory()), format="json"
        ),
    ),
    Call(
        "POST",
        "/auth/password/change",
        204,
        lambda w: token_client(UserFactory()).post(
            f"{API}/auth/password/change",
            {"old_password": DEFAULT_PASSWORD, "new_password": "a-Changed-passw0rd"},
            format="json",
        ),
    ),
    # Email verification and the profile (docs/accounts.md).
    Call(
        "POST",
        "/auth/email/verify",
        204,
        lambda w: w.anonymous.post(
            f"{API}/auth/email/verify",
            _verification_link(UserFactory(email_verified=False)),
            format="json",
        ),
    ),
    Call(
        "POST",
        "/auth/email/verify/resend",
        202,
        lambda w: token_client(UserFactory(email_verified=False)).post(
            f"{API}/auth/email/verify/resend"
        ),
    ),
    Call(
        "PATCH",
        "/me",
        200,
        lambda w: token_client(UserFactory()).patch(
            f"{API}/me", {"email": "new@example.org", "language": "fr"}, format="json"
        ),
    ),
    # --- end of issue 18 ---
]


def _verification_link(user) -> dict[str, str]:
    """What a verification mail's link carries (tests/accounts/test_email_verification.py
    reads the mail)."""
    from accounts.services import email_verification_token, password_reset_uid

    return {"uid": password_reset_uid(user), "token": email_verification_token(user)}


def _reset_link(user) -> dict[str, str]:
    """What a reset mail's link carries (tests/accounts/test_passwords.py reads the mail)."""
    from accounts.services import password_reset_token, password_reset_uid

    return {
        "uid": password_reset_uid(user),
        "token": password_reset_token(user),
        "new_password": "a-Reset-passw0rd",
    }


def _tile_url(lon: float, lat: float, z: int) -> str:
    """The tile at zoom z holding (lon, lat)."""
    n = 2**z
    x = int((lon + 180) / 360 * n)
    y = int((1 - math.asinh(math.tan(math.radians(lat))) / math.pi) / 2 * n)
    return f"{API}/tiles/{z}/{x}/{y}.mvt"


def _jpeg_upload():
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile("photo.jpg", jpeg(64, 48), content_type="image/jpeg")


def test_the_published_schema_is_valid_openapi(spec):
    validate_spec(spec)
    assert spec["openapi"].startswith("3.")


def test_every_operation_is_called(spec):
    published = {
        (method.upper(), path.removeprefix(API))
        for path, operations in spec["paths"].items()
        for method in operations
    }
    called = {(call.method, call.path) for call in OPERATIONS}
    assert published - called == set(), "operations without a call in OPERATIONS"
    assert called - published == set(), "calls of operations the schema does not have"


@pytest.mark.parametrize("call", OPERATIONS, ids=lambda c: f"{c.method} {c.path}")
def test_each_operation_answers_what_the_schema_says(spec, world, call):
    check_answer(spec, call.method, call.path, call.send(world), call.status)


def test_the_csv_export_is_documented_too(spec, world):
    response = world.anonymous.get(f"{API}/locations/export", {"format": "csv"})
    check_answer(spec, "GET", "/locations/export", response, 200)


def test_a_crowded_viewport_answers_documented_clusters(spec, world):
    response = world.anonymous.get(
        f"{API}/locations/viewport", {"bbox": "13.0,52.0,14.0,53.0", "limit": 1}
    )
    check_answer(spec, "GET", "/locations/viewport", response, 200)
    body = response.json()
    assert body["clustered"] is True
    assert {f["properties"]["cluster"] for f in body["features"]} == {True}


def test_an_owner_sees_a_pending_place_with_no_approval_time(spec, world):
    response = world.owner.get(f"{API}/locations/{world.pending.id}")
    check_answer(spec, "GET", "/locations/{id}", response, 200)
    assert response.json()["properties"]["approved_at"] is None


def test_an_owner_sees_their_edit_awaiting_review(spec, world):
    # An approved place's edit by its owner is a proposal, shown to the owner only.
    response = world.owner.patch(
        f"{API}/locations/{world.approved.id}", {"name": "Contract cafe, proposed"}, format="json"
    )
    check_answer(spec, "PATCH", "/locations/{id}", response, 200)
    proposal = response.json()["properties"]["pending_revision"]
    assert proposal["status"] == "pending"
    response = world.owner.get(f"{API}/locations/{world.approved.id}")
    check_answer(spec, "GET", "/locations/{id}", response, 200)
    assert response.json()["properties"]["pending_revision"]["id"] == proposal["id"]
    public = world.anonymous.get(f"{API}/locations/{world.approved.id}").json()
    assert "pending_revision" not in public["properties"]


def test_an_empty_tile_and_an_unchanged_one_answer_as_documented(spec, world):
    empty = world.anonymous.get(_tile_url(-30.0, 0.0, 12))  # mid-Atlantic
    check_answer(spec, "GET", "/tiles/{z}/{x}/{y}.mvt", empty, 204)
    url = _tile_url(13.40, 52.52, 12)
    first = world.anonymous.get(url)
    check_answer(spec, "GET", "/tiles/{z}/{x}/{y}.mvt", first, 200)
    again = world.anonymous.get(url, HTTP_IF_NONE_MATCH=first["ETag"])
    check_answer(spec, "GET", "/tiles/{z}/{x}/{y}.mvt", again, 304)


# --- Errors: the shared Problem schemas --------------------------------------------------

ERRORS = [
    Call("GET", "/locations/search", 400, lambda w: w.anonymous.get(f"{API}/locations/search")),
    Call(
        "POST",
        "/locations",
        400,
        lambda w: w.owner.post(f"{API}/locations", "{not json", content_type="application/json"),
    ),
    Call(
        "GET",
        "/me/locations",
        400,
        lambda w: w.owner.get(f"{API}/me/locations", {"cursor": "bm90IGEgY3Vyc29y"}),
    ),
    Call("GET", "/me", 401, lambda w: w.anonymous.get(f"{API}/me")),
    Call(
        "GET",
        "/locations/search",
        401,
        lambda w: APIClient(HTTP_AUTHORIZATION="Token not-a-token").get(
            f"{API}/locations/search", {"q": "cafe"}
        ),
    ),
    Call("GET", "/admin/locations", 403, lambda w: w.owner.get(f"{API}/admin/locations")),
    Call(
        "GET",
        "/locations/{id}",
        404,
        lambda w: w.anonymous.get(f"{API}/locations/{uuid.uuid4()}"),
    ),
    Call(
        "GET",
        "/locations/{id}",
        404,
        lambda w: w.anonymous.get(f"{API}/locations/{w.pending.id}"),
    ),
    Call(
        "GET",
        "/categories",
        406,
        lambda w: w.anonymous.get(f"{API}/categories", HTTP_ACCEPT="application/xml"),
    ),
    Call(
        "PATCH",
        "/admin/locations/{id}/status",
        409,
        lambda w: w.moderator.patch(
            f"{API}/admin/locations/{w.approved.id}/status", {"status": "approved"}, format="json"
        ),
    ),
    Call(
        "POST",
        "/locations",
        415,
        lambda w: w.owner.post(f"{API}/locations", "name=x", content_type="text/plain"),
    ),
    # Versions and revisions.
    Call(
        "GET",
        "/locations/{id}/revisions",
        401,
        lambda w: w.anonymous.get(f"{API}/locations/{w.decided.id}/revisions"),
    ),
    Call(
        "GET",
        "/locations/{id}/revisions",
        404,  # not the owner's nor a moderator's: read like an unknown place
        lambda w: w.reporter.get(f"{API}/locations/{w.decided.id}/revisions"),
    ),
    Call(
        "POST",
        "/admin/locations/{id}/revert",
        400,
        lambda w: w.moderator.post(
            f"{API}/admin/locations/{w.decided.id}/revert",
            {"revision": str(uuid.uuid4())},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/admin/locations/{id}/revert",
        403,
        lambda w: w.suspended_moderator.post(
            f"{API}/admin/locations/{w.decided.id}/revert",
            {"revision": str(w.first_version.id)},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/admin/locations/{id}/revert",
        404,
        lambda w: w.moderator.post(
            f"{API}/admin/locations/{uuid.uuid4()}/revert",
            {"revision": str(w.first_version.id)},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/admin/locations/{id}/revert",
        409,  # the place changed since the moderator saw version 1
        lambda w: w.moderator.post(
            f"{API}/admin/locations/{w.decided.id}/revert",
            {"revision": str(w.first_version.id), "expected_version": 1},
            format="json",
        ),
    ),
    # Photo moderation.
    Call(
        "GET",
        "/admin/images",
        400,
        lambda w: w.moderator.get(f"{API}/admin/images", {"status": "lost"}),
    ),
    Call("GET", "/admin/images", 403, lambda w: w.owner.get(f"{API}/admin/images")),
    Call(
        "PATCH",
        "/admin/images/{id}/status",
        400,  # a rejection needs a reason code and a reason
        lambda w: w.moderator.patch(
            f"{API}/admin/images/{w.photo_pending.id}/status", {"status": "rejected"}, format="json"
        ),
    ),
    Call(
        "PATCH",
        "/admin/images/{id}/status",
        403,
        lambda w: w.suspended_moderator.patch(
            f"{API}/admin/images/{w.photo_pending.id}/status", {"status": "approved"}, format="json"
        ),
    ),
    Call(
        "PATCH",
        "/admin/images/{id}/status",
        404,
        lambda w: w.moderator.patch(
            f"{API}/admin/images/{uuid.uuid4()}/status", {"status": "approved"}, format="json"
        ),
    ),
    Call(
        "PATCH",
        "/admin/images/{id}/status",
        409,  # the photo changed since the moderator saw it
        lambda w: w.moderator.patch(
            f"{API}/admin/images/{w.photo_pending.id}/status",
            {"status": "approved", "expected_version": w.photo_pending.version + 1},
            format="json",
        ),
    ),
    Call(
        "PATCH",
        "/admin/images/{id}/status",
        409,  # approved already
        lambda w: w.moderator.patch(
            f"{API}/admin/images/{w.image.id}/status", {"status": "approved"}, format="json"
        ),
    ),
    # Flags.
    Call(
        "POST",
        "/locations/{id}/flags",
        400,
        lambda w: w.owner.post(
            f"{API}/locations/{w.approved.id}/flags", {"reason": "boring"}, format="json"
        ),
    ),
    Call(
        "POST",
        "/locations/{id}/flags",
        401,
        lambda w: w.anonymous.post(
            f"{API}/locations/{w.approved.id}/flags", {"reason": "spam"}, format="json"
        ),
    ),
    Call(
        "POST",
        "/locations/{id}/flags",
        403,
        lambda w: w.suspended.post(
            f"{API}/locations/{w.approved.id}/flags", {"reason": "spam"}, format="json"
        ),
    ),
    Call(
        "POST",
        "/locations/{id}/flags",
        404,  # not public
        lambda w: w.owner.post(
            f"{API}/locations/{w.pending.id}/flags", {"reason": "spam"}, format="json"
        ),
    ),
    Call(
        "POST",
        "/locations/{id}/flags",
        409,  # the reporter's flag on it is still open
        lambda w: w.reporter.post(
            f"{API}/locations/{w.approved_2.id}/flags", {"reason": "other"}, format="json"
        ),
    ),
    Call(
        "POST",
        "/images/{id}/flags",
        404,  # awaiting moderation: not public
        lambda w: w.reporter.post(
            f"{API}/images/{w.photo_pending.id}/flags", {"reason": "spam"}, format="json"
        ),
    ),
    Call(
        "POST",
        "/images/{id}/flags",
        409,
        lambda w: _twice(
            lambda: w.reporter.post(
                f"{API}/images/{w.image.id}/flags", {"reason": "spam"}, format="json"
            )
        ),
    ),
    Call(
        "GET",
        "/admin/flags",
        400,
        lambda w: w.moderator.get(f"{API}/admin/flags", {"status": "closed"}),
    ),
    Call("GET", "/admin/flags", 403, lambda w: w.reporter.get(f"{API}/admin/flags")),
    Call(
        "PATCH",
        "/admin/flags/{id}",
        400,  # a take-down is an action, not a dismissal
        lambda w: w.moderator.patch(
            f"{API}/admin/flags/{w.flag.id}",
            {"resolution": "dismissed", "take_down": {"reason_code": "spam", "reason": "Spam."}},
            format="json",
        ),
    ),
    Call(
        "PATCH",
        "/admin/flags/{id}",
        403,
        lambda w: w.suspended_moderator.patch(
            f"{API}/admin/flags/{w.flag.id}", {"resolution": "dismissed"}, format="json"
        ),
    ),
    Call(
        "PATCH",
        "/admin/flags/{id}",
        404,
        lambda w: w.moderator.patch(
            f"{API}/admin/flags/{2**31}", {"resolution": "dismissed"}, format="json"
        ),
    ),
    Call(
        "PATCH",
        "/admin/flags/{id}",
        409,  # resolved already
        lambda w: _twice(
            lambda: w.moderator.patch(
                f"{API}/admin/flags/{w.flag.id}", {"resolution": "dismissed"}, format="json"
            )
        ),
    ),
    # Suspension.
    Call(
        "POST",
        "/admin/users/{username}/suspend",
        400,
        lambda w: w.moderator.post(
            f"{API}/admin/users/{w.member.username}/suspend", {}, format="json"
        ),
    ),
    Call(
        "POST",
        "/admin/users/{username}/suspend",
        400,  # one's own account
        lambda w: w.moderator.post(
            f"{API}/admin/users/{w.moderator_user.username}/suspend",
            {"reason": "Testing."},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/admin/users/{username}/suspend",
        403,
        lambda w: w.suspended_moderator.post(
            f"{API}/admin/users/{w.member.username}/suspend", {"reason": "Spam."}, format="json"
        ),
    ),
    Call(
        "POST",
        "/admin/users/{username}/suspend",
        404,
        lambda w: w.moderator.post(
            f"{API}/admin/users/nobody-here/suspend", {"reason": "Spam."}, format="json"
        ),
    ),
    Call(
        "POST",
        "/admin/users/{username}/suspend",
        409,  # suspended already
        lambda w: w.moderator.post(
            f"{API}/admin/users/{w.suspended_user.username}/suspend",
            {"reason": "Spam."},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/admin/users/{username}/unsuspend",
        403,
        lambda w: w.owner.post(f"{API}/admin/users/{w.suspended_user.username}/unsuspend"),
    ),
    Call(
        "POST",
        "/admin/users/{username}/unsuspend",
        404,
        lambda w: w.moderator.post(f"{API}/admin/users/nobody-here/unsuspend"),
    ),
    Call(
        "POST",
        "/admin/users/{username}/unsuspend",
        409,  # not suspended
        lambda w: w.moderator.post(f"{API}/admin/users/{w.member.username}/unsuspend"),
    ),
    # Vector tiles.
    Call(
        "GET",
        "/tiles/{z}/{x}/{y}.mvt",
        400,
        lambda w: w.anonymous.get(f"{API}/tiles/23/0/0.mvt"),
    ),
    Call(
        "GET",
        "/tiles.json",
        400,
        lambda w: w.anonymous.get(f"{API}/tiles.json", {"category": "volcano"}),
    ),
    # --- issue 18: password reset and change ---
    Call(
        "POST",
        "/auth/password/reset",
        400,
        lambda w: w.anonymous.post(f"{API}/auth/password/reset", {"email": "x"}, format="json"),
    ),
    Call(
        "POST",
        "/auth/password/reset/confirm",
        400,
        lambda w: w.anonymous.post(
            f"{API}/auth/password/reset/confirm",
            {**_reset_link(w.member), "token": "used-or-forged"},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/auth/password/change",
        400,
        lambda w: w.owner.post(
            f"{API}/auth/password/change",
            {"old_password": "wrong", "new_password": "a-Changed-passw0rd"},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/auth/password/change",
        401,
        lambda w: w.anonymous.post(f"{API}/auth/password/change", {}, format="json"),
    ),
    Call(
        "POST",
        "/auth/email/verify",
        400,
        lambda w: w.anonymous.post(
            f"{API}/auth/email/verify",
            {"uid": _verification_link(w.member)["uid"], "token": "used-or-forged"},
            format="json",
        ),
    ),
    Call(
        "POST",
        "/auth/email/verify/resend",
        401,
        lambda w: w.anonymous.post(f"{API}/auth/email/verify/resend"),
    ),
    Call(
        "POST",
        "/auth/email/verify/resend",
        409,  # verified already
        lambda w: w.owner.post(f"{API}/auth/email/verify/resend"),
    ),
    Call(
        "PATCH",
        "/me",
        400,
        lambda w: w.owner.patch(f"{API}/me", {"language": "klingon"}, format="json"),
    ),
    Call(
        "PATCH",
        "/me",
        401,
        lambda w: w.anonymous.patch(f"{API}/me", {"language": "de"}, format="json"),
    ),
    Call(
        "PATCH",
        "/me",
        403,  # suspended
        lambda w: w.suspended.patch(f"{API}/me", {"language": "de"}, format="json"),
    ),
    Call(
        "POST",
        "/locations",
        403,  # an unverified address under ACCOUNT_EMAIL_VERIFICATION=mandatory
        lambda w: _unverified_write(w),
    ),
    # --- end of issue 18 ---
]


def _unverified_write(w):
    from django.test import override_settings

    with override_settings(ACCOUNT_EMAIL_VERIFICATION="mandatory"):
        response = token_client(UserFactory(email_verified=False)).post(
            f"{API}/locations", {}, format="json"
        )
    assert response.json()["type"].endswith("/email-unverified")
    return response


def _twice(send: Callable[[], object]):
    """The second of two identical requests (the first one succeeds)."""
    first = send()
    assert first.status_code < 300, first.content[:500]
    return send()


@pytest.mark.parametrize("call", ERRORS, ids=lambda c: f"{c.status} {c.method} {c.path}")
def test_errors_answer_the_documented_problem(spec, world, call):
    response = call.send(world)
    check_answer(spec, call.method, call.path, response, call.status)
    body = response.json()
    assert body["request_id"] == response["X-Request-ID"]
    if call.status == 400:
        assert body["errors"], body


# --- One pagination shape ----------------------------------------------------------------


def paginated_operations(spec: dict) -> set[tuple[str, str]]:
    return {
        (method.upper(), path.removeprefix(API))
        for path, operations in spec["paths"].items()
        for method, operation in operations.items()
        if "Link" in operation["responses"].get("200", {}).get("headers", {})
    }


# Each list with at least three items for its caller, read one item per page.
LISTS = {
    ("GET", "/locations/search"): lambda w: (
        w.anonymous,
        f"{API}/locations/search",
        {"lat": 52.52, "lon": 13.40, "radius": 10000},
    ),
    ("GET", "/me/locations"): lambda w: (w.owner, f"{API}/me/locations", {}),
    ("GET", "/admin/locations"): lambda w: (
        w.moderator,
        f"{API}/admin/locations",
        {"status": "approved"},
    ),
    ("GET", "/admin/locations/{id}/log"): lambda w: (
        w.moderator,
        f"{API}/admin/locations/{_log_of_three(w)}/log",
        {},
    ),
    ("GET", "/locations/{id}/revisions"): lambda w: (
        w.owner,
        f"{API}/locations/{_revisions_of_three(w)}/revisions",
        {},
    ),
    ("GET", "/admin/images"): lambda w: (
        w.moderator,
        f"{API}/admin/images",
        {"status": _photos_of_three(w)},
    ),
    ("GET", "/admin/flags"): lambda w: (
        w.moderator,
        f"{API}/admin/flags",
        {"status": _flags_on_three(w)},
    ),
}


def _log_of_three(world: World):
    from moderation.services import location_transition

    target = world.pending
    for status in ("approved", "rejected", "approved"):
        location_transition(
            location_id=target.id,
            to_status=status,
            moderator=world.moderator_user,
            reason_code="other" if status == "rejected" else "",
            reason="Contract test" if status == "rejected" else "",
        )
    return target.id


def _revisions_of_three(world: World):
    # Submitted (version 1), renamed (2) by the fixture, moved (3) here.
    location_update(
        location=world.decided, actor=world.moderator_user, latitude=52.49, longitude=13.38
    )
    return world.decided.id


def _photos_of_three(world: World) -> str:
    for place in (world.approved, world.approved):
        ImageFactory(
            uploader=world.owner_user, location=place, moderation_status=ImageModeration.PENDING
        )
    return ImageModeration.PENDING


def _flags_on_three(world: World) -> str:
    # approved_2 is flagged by the fixture; a place and a photo more.
    reporter = world.reporter_user
    flag_create(
        reporter=reporter,
        target_type=FLAG_TARGET_LOCATION,
        target_id=world.approved.id,
        reason="spam",
    )
    flag_create(
        reporter=reporter, target_type=FLAG_TARGET_IMAGE, target_id=world.image.id, reason="privacy"
    )
    return "open"


def _item_id(item: dict) -> str:
    # A flagged object (GET /admin/flags) is known by its place or photo.
    if "flags" in item and "target_type" in item:
        return (item["location"] or item["image"])["id"]
    return item["id"]


def _links(response) -> dict[str, str]:
    links = {}
    for part in filter(None, response.get("Link", "").split(", ")):
        url, relation = part.split("; ")
        links[relation.removeprefix('rel="').removesuffix('"')] = url.strip("<>")
    return links


def test_every_paginated_list_is_walked_here(spec):
    assert paginated_operations(spec) == set(LISTS)


@pytest.mark.parametrize("operation", list(LISTS), ids=lambda o: f"{o[0]} {o[1]}")
def test_every_list_pages_with_one_envelope_and_link_headers(spec, world, operation):
    client, url, params = LISTS[operation](world)
    seen: list = []
    response = client.get(url, {**params, "limit": 1})
    pages = 0
    while True:
        check_answer(spec, *operation, response, 200)
        body = response.json()
        items = body.get("results", body.get("features"))
        assert {"count", "next", "previous", "limit"} <= set(body)
        assert body["limit"] == 1 and len(items) == 1
        links = _links(response)
        assert links.get("next") == body["next"]
        assert links.get("prev") == body["previous"]
        assert (body["previous"] is None) == (pages == 0)
        seen.append(_item_id(items[0]))  # photo URLs are signed per request
        pages += 1
        if body["next"] is None:
            break
        response = client.get(body["next"])
    assert pages >= 3
    assert len(set(seen)) == pages  # no repeats
    # And back from the last page by `previous`: the same items in reverse.
    back = []
    while body["previous"] is not None:
        response = client.get(body["previous"])
        check_answer(spec, *operation, response, 200)
        body = response.json()
        back.append(_item_id(body.get("results", body.get("features"))[0]))
    assert back == seen[-2::-1]


def test_the_checker_refuses_an_answer_off_the_schema(spec):
    # The checks above can fail: a detail without its properties, an approval time that
    # is a number, and an undocumented status are each caught.
    from django.http import HttpResponse
    from jsonschema.exceptions import ValidationError

    feature = {"type": "Feature", "id": str(uuid.uuid4()), "geometry": {"type": "Point"}}
    wrong = HttpResponse(json.dumps(feature), content_type="application/geo+json")
    with pytest.raises(ValidationError):
        check_answer(spec, "GET", "/locations/{id}", wrong, 200)
    collection = {"type": "FeatureCollection", "clustered": False, "total": 0, "features": []}
    collection["features"] = [
        {
            "type": "Feature",
            "id": str(uuid.uuid4()),
            "geometry": {"type": "Point", "coordinates": [1.0, 2.0]},
            "properties": {
                "id": str(uuid.uuid4()),
                "name": "x",
                "category": "cafe",
                "address": "",
                "approved_at": 5,
            },
        }
    ]
    wrong = HttpResponse(json.dumps(collection), content_type="application/geo+json")
    with pytest.raises(ValidationError):
        check_answer(spec, "GET", "/locations/viewport", wrong, 200)
    with pytest.raises(AssertionError, match="418 is not documented"):
        check_answer(spec, "GET", "/me", HttpResponse(status=418), 418)
    # A nullable nested object (config.schema.nullable_references) is the object or null,
    # nothing else.
    pending_revision = {
        **spec["components"]["schemas"]["ModerationLocationOutput"]["properties"][
            "pending_revision"
        ],
        "components": spec["components"],
    }
    validator = OAS30Validator(pending_revision, format_checker=oas30_format_checker)
    validator.validate(None)
    for wrong in (5, "none", {"id": str(uuid.uuid4())}):
        with pytest.raises(ValidationError):
            validator.validate(wrong)


@pytest.mark.parametrize(
    "path",
    ["/locations/search?q=cafe", "/locations/viewport?bbox=13,52,14,53", "/locations/{id}"],
)
@pytest.mark.parametrize("accept", ["application/geo+json", "*/*", None])
def test_geojson_reads_answer_geojson_to_a_geojson_or_any_accept(world, path, accept):
    headers = {"HTTP_ACCEPT": accept} if accept else {}
    response = world.anonymous.get(API + _id(path, world.approved.id), **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "application/geo+json"
