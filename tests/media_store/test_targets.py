"""The attach-target registry: media_store asks the app that owns a target whether the
uploader may attach a photo there, and knows no such app itself."""

import ast
import uuid
from pathlib import Path

import pytest

from locations.image_targets import location_owned_check
from media_store import targets
from media_store.models import Image
from tests.locations.factories import LocationFactory
from tests.media_store import samples

pytestmark = pytest.mark.django_db

MEDIA_STORE = Path(targets.__file__).parent


def test_the_places_app_registers_its_ownership_check():
    assert location_owned_check in targets._checks


def test_it_refuses_every_target_when_no_app_registered_a_check(monkeypatch, user):
    monkeypatch.setattr(targets, "_checks", [])
    place = LocationFactory(submitter=user)

    with pytest.raises(targets.ImageTargetInvalid) as caught:
        targets.check_attach_target(uploader=user, target_id=place.id, lock=False)
    assert caught.value.errors == {"location_id": ["No place of yours has this id."]}
    assert caught.value.status == 400


def test_registering_a_check_twice_runs_it_once(monkeypatch, user):
    calls = []

    def check(*, uploader, target_id, lock):
        calls.append(target_id)

    monkeypatch.setattr(targets, "_checks", [])
    targets.register_attach_target(check)
    targets.register_attach_target(check)
    target = uuid.uuid4()
    targets.check_attach_target(uploader=user, target_id=target, lock=True)
    assert calls == [target]


def test_it_accepts_the_uploaders_place_whatever_its_status(user):
    for status in ("pending", "approved", "rejected"):
        place = LocationFactory(submitter=user, status=status)
        targets.check_attach_target(uploader=user, target_id=place.id, lock=False)


def test_it_refuses_someone_elses_place_and_an_unknown_id_alike(user, other_user):
    theirs = LocationFactory(submitter=other_user)
    details = []
    for target_id in (theirs.id, uuid.uuid4()):
        with pytest.raises(targets.ImageTargetInvalid) as caught:
            targets.check_attach_target(uploader=user, target_id=target_id, lock=True)
        details.append(caught.value.detail)
    assert details[0] == details[1] == "No place of yours has this id."


def test_an_upload_to_a_place_of_someone_else_is_refused_through_the_registry(upload, other_user):
    theirs = LocationFactory(submitter=other_user)

    response = upload(samples.webp(), location_id=str(theirs.id))

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"] == {"location_id": ["No place of yours has this id."]}
    assert Image.objects.count() == 0


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text())
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


def test_media_store_imports_neither_places_nor_moderation():
    offending = {
        f"{path.relative_to(MEDIA_STORE.parent)}: {module}"
        for path in MEDIA_STORE.rglob("*.py")
        for module in _imported_modules(path)
        if module.split(".")[0] in {"locations", "moderation"}
    }
    assert offending == set()
