import shutil
import tempfile
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from locations import import_uploads, tasks
from locations.models import Location
from media_store import storage
from tests.accounts.factories import UserFactory

UPLOAD_URL = reverse("admin:locations_location_import")
CONFIRM_URL = reverse("admin:locations_location_import_confirm")
CHANGELIST_URL = reverse("admin:locations_location_changelist")
GOOD_AND_BAD = (
    b"external_id,name,description,category,address,longitude,latitude\n"
    b"a1,Good park,,park,,13.4,52.5\n"
    b"a2,Bad latitude,,park,,13.4,95\n"
    b"a3,Good cafe,,cafe,,13.5,52.5\n"
    b"a4,Unknown category,,spaceport,,13.4,52.5\n"
)


def stored_uploads() -> list[str]:
    """Keys of the uploads waiting in the real bucket (imports/)."""
    return [obj["Key"] for obj in storage.iter_objects(prefix=import_uploads.KEY_PREFIX)]


@pytest.fixture(autouse=True)
def upload_dir(monkeypatch, tmp_path):
    """The web process's local disk: the scratch (temp) directory of these requests,
    which must be empty after each. No uploads are waiting in the bucket at the start."""
    storage.delete_objects(stored_uploads())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    yield scratch
    # The tests that take storage away leave failures on the shared breaker.
    storage.breaker().close()
    storage.delete_objects(stored_uploads())


def _upload(client, content=GOOD_AND_BAD, name="places.csv", status="pending"):
    return client.post(
        UPLOAD_URL,
        {"file": SimpleUploadedFile(name, content), "format": "auto", "status": status},
    )


def test_the_upload_shows_the_validation_report_and_writes_nothing(operator_client, upload_dir):
    response = _upload(operator_client)

    assert response.status_code == 200
    report = response.context["report"]
    assert [(bad.number, sorted(bad.errors)) for bad in report.bad_rows] == [
        (3, ["latitude"]),
        (5, ["category"]),
    ]
    page = response.content.decode()
    assert "Import 2 valid rows" in page
    assert "Ensure this value is less than or equal to 90." in page
    assert not Location.objects.exists()
    assert stored_uploads() == [f"imports/{response.context['token']}.upload"]
    assert list(upload_dir.iterdir()) == []  # nothing left on the web process's disk


def test_confirming_imports_the_valid_rows_and_deletes_the_upload(
    operator_client, operator, upload_dir
):
    token = _upload(operator_client, status="approved").context["token"]

    response = operator_client.post(CONFIRM_URL, {"token": token, "confirm": "1"})

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST_URL
    assert sorted(Location.objects.values_list("external_id", "status")) == [
        ("a1", "approved"),
        ("a3", "approved"),
    ]
    # The audit trail names the operator who confirmed it.
    assert set(Location.history.values_list("history_user_id", flat=True)) == {operator.pk}
    assert stored_uploads() == []
    assert list(upload_dir.iterdir()) == []
    # The same token cannot import twice.
    operator_client.post(CONFIRM_URL, {"token": token, "confirm": "1"})
    assert Location.objects.count() == 2


def test_cancelling_deletes_the_upload(operator_client, upload_dir):
    token = _upload(operator_client).context["token"]

    response = operator_client.post(CONFIRM_URL, {"token": token, "cancel": "1"})

    assert response.status_code == 302
    assert stored_uploads() == []
    assert not Location.objects.exists()


def test_another_session_cannot_confirm_someone_elses_upload(operator_client, db):
    token = _upload(operator_client).context["token"]
    intruder = Client()
    intruder.force_login(UserFactory(is_staff=True, is_superuser=True))

    intruder.post(CONFIRM_URL, {"token": token, "confirm": "1"})

    assert not Location.objects.exists()


def test_staff_without_the_add_permission_cannot_import(client, db):
    client.force_login(UserFactory(is_staff=True))

    assert client.get(UPLOAD_URL).status_code == 403
    assert _upload(client).status_code == 403
    assert not Location.objects.exists()


def test_an_anonymous_visitor_is_sent_to_the_login_page(client, db):
    response = client.get(UPLOAD_URL)

    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("size", [4 * 1024, 200 * 1024])
def test_an_upload_over_the_cap_is_refused_and_not_stored(
    operator_client, upload_dir, settings, size
):
    # 4 KiB passes the Content-Length check and is stopped while received;
    # 200 KiB is refused from its Content-Length before the body is read.
    settings.IMPORT_MAX_UPLOAD_BYTES = 1024
    content = GOOD_AND_BAD + b"a9,Filler row,,park,,1,1\n" * (size // 25)

    response = _upload(operator_client, content=content)

    assert response.status_code == 413
    assert "larger than 1.0" in response.content.decode()
    assert stored_uploads() == []
    assert list(upload_dir.iterdir()) == []
    assert not Location.objects.exists()


def test_an_unreadable_file_is_refused_with_its_reason(operator_client, upload_dir):
    response = _upload(
        operator_client, content=b'{"type": "FeatureCollection", "features": [', name="x.geojson"
    )

    assert response.status_code == 400
    assert "Not valid JSON" in response.content.decode()
    assert stored_uploads() == []
    assert list(upload_dir.iterdir()) == []


def test_the_places_list_links_to_the_import_page(operator_client):
    response = operator_client.get(CHANGELIST_URL)

    assert response.status_code == 200
    assert UPLOAD_URL in response.content.decode()


def test_another_replica_confirms_an_upload_this_one_validated(operator, upload_dir, tmp_path):
    """Two web processes share nothing but PostgreSQL (sessions) and the bucket."""
    first = Client()
    first.force_login(operator)
    token = _upload(first, status="approved").context["token"]
    # The first replica's disk is gone (another machine, a restarted container).
    shutil.rmtree(upload_dir)
    other_disk = tmp_path / "other-replica"
    other_disk.mkdir()
    tempfile.tempdir = str(other_disk)  # (monkeypatched: restored after the test)
    second = Client()
    second.cookies = first.cookies  # the same browser, routed to another replica

    response = second.post(CONFIRM_URL, {"token": token, "confirm": "1"})

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST_URL
    assert sorted(Location.objects.values_list("external_id", flat=True)) == ["a1", "a3"]
    assert stored_uploads() == []
    assert list(other_disk.iterdir()) == []


def test_a_confirmation_while_storage_is_down_keeps_the_upload_for_a_retry(
    operator_client, settings
):
    token = _upload(operator_client).context["token"]
    endpoint = settings.AWS_S3_ENDPOINT_URL
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"  # nothing listens there

    response = operator_client.post(CONFIRM_URL, {"token": token, "confirm": "1"}, follow=True)

    assert "File storage is unavailable" in response.content.decode()
    assert not Location.objects.exists()
    settings.AWS_S3_ENDPOINT_URL = endpoint
    operator_client.post(CONFIRM_URL, {"token": token, "confirm": "1"})
    assert Location.objects.count() == 2
    assert stored_uploads() == []


def test_an_upload_while_storage_is_down_is_a_503_and_keeps_nothing(
    operator_client, settings, upload_dir
):
    settings.AWS_S3_ENDPOINT_URL = "http://127.0.0.1:9"

    response = _upload(operator_client)

    assert response.status_code == 503
    assert response["Retry-After"]
    assert "File storage is unavailable" in response.content.decode()
    assert list(upload_dir.iterdir()) == []
    assert operator_client.session.get("placemap_imports", {}) == {}


def test_abandoned_uploads_are_purged_after_a_day(operator_client):
    token = _upload(operator_client).context["token"]

    assert import_uploads.import_uploads_purge_stale(older_than=timedelta(hours=1)) == 0
    assert tasks.purge_stale_import_uploads() == 0  # the beat task: a day by default
    assert stored_uploads() == [f"imports/{token}.upload"]
    assert import_uploads.import_uploads_purge_stale(older_than=timedelta(0)) == 1
    assert stored_uploads() == []
    # Its page now says so rather than failing.
    response = operator_client.post(CONFIRM_URL, {"token": token, "confirm": "1"}, follow=True)
    assert "Nothing was imported" in response.content.decode()
    assert not Location.objects.exists()
