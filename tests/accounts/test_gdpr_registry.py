"""The GDPR registry (accounts.gdpr): apps register their sections, accounts only runs
them, in their order, and imports none of the apps above it."""

import ast
import io
import json
import zipfile
from pathlib import Path

import pytest

from accounts import gdpr, services
from accounts.models import User
from locations.models import Location
from media_store.models import Image
from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory
from tests.media_store.factories import ImageFactory

ACCOUNTS_DIR = Path(__file__).resolve().parents[2] / "accounts"
# Every app above accounts in the layer order (docs/architecture.md).
APPS_ABOVE_ACCOUNTS = {"jobs", "notifications", "media_store", "locations", "moderation"}


@pytest.fixture
def registry(monkeypatch):
    """The real registry, as the apps filled it; what a test adds goes with the test."""
    monkeypatch.setattr(gdpr, "_registry", dict(gdpr._registry))
    return gdpr


def _export(user) -> tuple[services.ExportSummary, dict, zipfile.ZipFile]:
    out = io.BytesIO()
    summary = services.user_export(user=user, out=out)
    archive = zipfile.ZipFile(out)
    return summary, json.loads(archive.read("data.json")), archive


def test_every_app_registers_its_section_in_the_export_order():
    assert [section.key for section in gdpr.sections()] == [
        "locations",
        "location_revisions",
        "location_history",
        "images",
        "moderation_decisions",
        "photo_decisions",
        "flags",
        "suspensions",
        "notifications",
    ]


@pytest.mark.django_db
def test_a_registered_section_appears_in_the_export_at_its_place_with_its_files(registry):
    user = UserFactory()
    LocationFactory(submitter=user, name="My bench")

    def stamps_export(*, user):
        return [{"stamp": "blue", "owner": user.username}]

    def stamps_files(*, user, rows, add):
        for row in rows:
            row["file"] = f"stamps/{row['stamp']}.txt"
            add(row["file"], b"a blue stamp")
        return len(rows)

    registry.register_section(
        gdpr.GdprSection(key="stamps", export=stamps_export, attach_files=stamps_files, order=15)
    )

    summary, data, archive = _export(user)

    assert list(data) == [
        "format",
        "version",
        "generated_at",
        "profile",
        "locations",
        "location_revisions",
        "location_history",
        "stamps",
        "images",
        "moderation_decisions",
        "photo_decisions",
        "flags",
        "suspensions",
        "notifications",
    ]
    assert data["stamps"] == [{"stamp": "blue", "owner": user.username, "file": "stamps/blue.txt"}]
    assert archive.read("stamps/blue.txt") == b"a blue stamp"
    assert summary.photos_included == 1
    assert [place["name"] for place in data["locations"]] == ["My bench"]


@pytest.mark.django_db
def test_erasure_runs_a_registered_section_in_its_order_and_adds_its_counts(registry):
    user = UserFactory()
    LocationFactory(submitter=user)
    loose = ImageFactory(uploader=user, location=None)
    seen = {}

    def stamps_erase(*, user, delete_places):
        # Order 15: after the places (10), before the photos (20), before the account.
        seen["delete_places"] = delete_places
        seen["places_left"] = Location.objects.filter(submitter=user).count()
        seen["loose_photo_left"] = Image.objects.filter(pk=loose.pk).exists()
        seen["account_left"] = User.objects.filter(pk=user.pk).exists()
        return {"images_deleted": 2}

    registry.register_section(
        gdpr.GdprSection(key="stamps", export=lambda *, user: [], erase=stamps_erase, order=15)
    )

    summary = services.user_erase(user=user, delete_places=False)

    assert seen == {
        "delete_places": False,
        "places_left": 0,
        "loose_photo_left": True,
        "account_left": True,
    }
    assert summary == services.ErasureSummary(
        places_deleted=0, places_anonymized=1, images_deleted=3
    )
    assert not User.objects.filter(pk=user.pk).exists()


def test_it_refuses_a_section_key_that_is_taken(registry):
    for key in ("locations", "profile", "format"):
        with pytest.raises(ValueError, match=key):
            registry.register_section(gdpr.GdprSection(key=key, export=lambda *, user: []))
    assert [section.key for section in registry.sections()].count("locations") == 1


def _imported_top_level_names(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_accounts_imports_no_app_above_it():
    files = sorted(ACCOUNTS_DIR.rglob("*.py"))
    assert len(files) > 10  # the scan looks at the real package
    offenders = {
        str(path.relative_to(ACCOUNTS_DIR)): sorted(
            _imported_top_level_names(path) & APPS_ABOVE_ACCOUNTS
        )
        for path in files
    }
    assert {name: apps for name, apps in offenders.items() if apps} == {}
