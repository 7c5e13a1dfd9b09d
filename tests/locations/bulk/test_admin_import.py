import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from locations.models import Location
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


@pytest.fixture(autouse=True)
def upload_dir(settings, tmp_path):
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "imports")
    return tmp_path / "imports"


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
    assert len(list(upload_dir.iterdir())) == 1


def test_confirming_imports_the_valid_rows_and_deletes_the_upload(operator_client, upload_dir):
    token = _upload(operator_client, status="approved").context["token"]

    response = operator_client.post(CONFIRM_URL, {"token": token, "confirm": "1"})

    assert response.status_code == 302
    assert response["Location"] == CHANGELIST_URL
    assert sorted(Location.objects.values_list("external_id", "status")) == [
        ("a1", "approved"),
        ("a3", "approved"),
    ]
    assert list(upload_dir.iterdir()) == []
    # The same token cannot import twice.
    operator_client.post(CONFIRM_URL, {"token": token, "confirm": "1"})
    assert Location.objects.count() == 2


def test_cancelling_deletes_the_upload(operator_client, upload_dir):
    token = _upload(operator_client).context["token"]

    response = operator_client.post(CONFIRM_URL, {"token": token, "cancel": "1"})

    assert response.status_code == 302
    assert list(upload_dir.iterdir()) == []
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
    assert not upload_dir.exists() or list(upload_dir.iterdir()) == []
    assert not Location.objects.exists()


def test_an_unreadable_file_is_refused_with_its_reason(operator_client, upload_dir):
    response = _upload(
        operator_client, content=b'{"type": "FeatureCollection", "features": [', name="x.geojson"
    )

    assert response.status_code == 400
    assert "Not valid JSON" in response.content.decode()
    assert list(upload_dir.iterdir()) == []


def test_the_places_list_links_to_the_import_page(operator_client):
    response = operator_client.get(CHANGELIST_URL)

    assert response.status_code == 200
    assert UPLOAD_URL in response.content.decode()
