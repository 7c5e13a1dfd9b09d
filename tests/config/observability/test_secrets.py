import io
import logging
from urllib.parse import parse_qs, urlsplit

import pytest
import structlog
from PIL import Image as PILImage

from media_store.selectors import presigned_url
from tests.accounts.factories import DEFAULT_PASSWORD

pytestmark = pytest.mark.django_db

COOKIE_VALUE = "s3ss10n-cookie-value-xyz"


def png_bytes() -> bytes:
    buffer = io.BytesIO()
    PILImage.new("RGB", (64, 48), (200, 30, 30)).save(buffer, format="PNG")
    return buffer.getvalue()


# Users are created before `logs` starts capturing: factory_boy itself logs the password
# it sets, at DEBUG (a test tool, never installed in production).


def test_a_login_leaves_neither_the_password_nor_the_token_in_the_logs(api_client, user, logs):
    response = api_client.post(
        "/api/v1/auth/token", {"username": user.username, "password": DEFAULT_PASSWORD}
    )
    wrong = api_client.post(
        "/api/v1/auth/token", {"username": user.username, "password": "nope-123"}
    )

    assert response.status_code == 200
    assert wrong.status_code == 401
    token = response.json()["token"]
    assert len(logs.events("request_finished")) == 2
    assert DEFAULT_PASSWORD not in logs.text
    assert "nope-123" not in logs.text
    assert token not in logs.text


def test_a_token_request_leaves_no_authorization_header_or_cookie_in_the_logs(
    api_client, user, logs
):
    token = api_client.post(
        "/api/v1/auth/token", {"username": user.username, "password": DEFAULT_PASSWORD}
    ).json()["token"]
    api_client.cookies["sessionid"] = COOKIE_VALUE

    me = api_client.get("/api/v1/me", {"access_token": token}, HTTP_AUTHORIZATION=f"Token {token}")
    revoked = api_client.delete("/api/v1/auth/token", HTTP_AUTHORIZATION=f"Token {token}")
    refused = api_client.get("/api/v1/me", HTTP_AUTHORIZATION=f"Token {token}")

    assert (me.status_code, revoked.status_code, refused.status_code) == (200, 204, 401)
    finished = logs.events("request_finished")
    assert len(finished) == 4
    # The query string is logged for debugging, with the secret parameter masked.
    assert finished[1]["query"] == "access_token=[REDACTED]"
    assert token not in logs.text
    assert COOKIE_VALUE not in logs.text


def test_an_upload_leaves_no_file_bytes_token_or_presigned_signature_in_the_logs(
    api_client, user, logs
):
    token = api_client.post(
        "/api/v1/auth/token", {"username": user.username, "password": DEFAULT_PASSWORD}
    ).json()["token"]
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token}")

    response = api_client.post(
        "/api/v1/images/upload",
        {"file": io.BytesIO(png_bytes())},
        format="multipart",
    )

    assert response.status_code == 201, response.content
    url = response.json()["url"]
    signature = parse_qs(urlsplit(url).query)["X-Amz-Signature"][0]
    upload_line = logs.events("request_finished")[-1]
    assert upload_line["path"] == "/api/v1/images/upload"
    assert upload_line["status"] == 201
    assert upload_line["user_id"] == user.pk
    assert token not in logs.text
    assert signature not in logs.text


def test_secrets_handed_to_a_logger_are_redacted_before_rendering(logs):
    url = presigned_url("photos/some-key.jpg")
    # As they appear in the URL (the credential is percent-encoded there).
    raw = dict(part.split("=", 1) for part in urlsplit(url).query.split("&"))
    signature, credential = raw["X-Amz-Signature"], raw["X-Amz-Credential"]

    structlog.get_logger("tests").info(
        "calling_out",
        url=url,
        password="hunter2-hunter2",
        headers={"Authorization": "Token abcdef0123456789", "Cookie": f"csrftoken={COOKIE_VALUE}"},
        api_token="tok-zzzzzzzz",
    )
    logging.getLogger("tests.stdlib").warning(
        "Retrying %s with Authorization: Bearer %s", url, "bearer-secret-123456"
    )
    logging.getLogger("tests.stdlib").warning(
        "SigV4 header: AWS4-HMAC-SHA256 Credential=AKIAEXAMPLE/20261126/us-east-1/s3/aws4_request, "
        "SignedHeaders=host, Signature=deadbeefdeadbeefdeadbeef"
    )

    text = logs.text
    for secret in (
        signature,
        credential,
        "hunter2-hunter2",
        "abcdef0123456789",
        COOKIE_VALUE,
        "tok-zzzzzzzz",
        "bearer-secret-123456",
        "AKIAEXAMPLE",
        "deadbeefdeadbeefdeadbeef",
    ):
        assert secret not in text, secret
    line = logs.events("calling_out")[0]
    # What is not secret stays readable: where the call went.
    assert line["url"].startswith(url.split("?")[0] + "?")
    assert "SignedHeaders=host" in text
