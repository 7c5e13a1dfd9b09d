"""Operators answer GDPR requests with manage.py gdpr_export / gdpr_erase."""

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command

from accounts.models import User
from locations.models import Location
from tests.accounts.gdpr_world import SUBJECT_USERNAME, build_world

pytestmark = pytest.mark.django_db


def test_gdpr_export_writes_the_same_archive_as_the_api(tmp_path):
    world = build_world()
    target = tmp_path / "subject.zip"
    out = io.StringIO()

    call_command("gdpr_export", SUBJECT_USERNAME, output=str(target), stdout=out)

    archive = zipfile.ZipFile(target)
    data = json.loads(archive.read("data.json"))
    assert data["profile"]["username"] == SUBJECT_USERNAME
    assert len(data["locations"]) == 3
    assert archive.read(f"photos/{world.photo.id}.jpg") == world.photo_bytes["photo"]
    assert "3 places, 3 photos (2 files)" in out.getvalue()
    assert not (tmp_path / "subject.zip.partial").exists()


def test_gdpr_export_names_an_unknown_user():
    with pytest.raises(CommandError, match="No user named 'nobody'"):
        call_command("gdpr_export", "nobody")


def test_gdpr_erase_refuses_without_confirmation_when_not_interactive(monkeypatch):
    world = build_world()
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    with pytest.raises(CommandError, match="--yes"):
        call_command("gdpr_erase", SUBJECT_USERNAME)
    assert User.objects.filter(pk=world.subject.pk).exists()


def test_gdpr_erase_with_delete_places_erases_the_user_and_their_places(
    django_capture_on_commit_callbacks,
):
    world = build_world()
    out = io.StringIO()
    with django_capture_on_commit_callbacks(execute=True):
        call_command("gdpr_erase", SUBJECT_USERNAME, delete_places=True, yes=True, stdout=out)

    assert not User.objects.filter(username=SUBJECT_USERNAME).exists()
    assert not Location.objects.filter(pk=world.approved.pk).exists()
    assert Location.objects.filter(pk=world.other_place.pk).exists()
    assert "3 places deleted, 0 kept anonymized, 3 photos deleted" in out.getvalue()


def test_gdpr_erase_keeps_places_by_default():
    world = build_world()
    call_command("gdpr_erase", SUBJECT_USERNAME, yes=True, stdout=io.StringIO())
    assert Location.objects.get(pk=world.approved.pk).submitter is None
