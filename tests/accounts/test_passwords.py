"""Password reset and change (docs/accounts.md): the whole flow through the mail outbox,
delivered the way a worker does (the delivery task run inline)."""

import re
import time
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token

from accounts.events import PASSWORD_RESET_EVENT
from accounts.services import password_reset_uid
from notifications.models import Notification
from notifications.tasks import deliver_notification
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

RESET = "/api/v1/auth/password/reset"
CONFIRM = "/api/v1/auth/password/reset/confirm"
CHANGE = "/api/v1/auth/password/change"
NEW_PASSWORD = "an-Other-lengthy-s3cret"


@pytest.fixture(autouse=True)
def _reset_url(settings):
    settings.PASSWORD_RESET_URL = "https://app.example/reset"


@pytest.fixture
def ada(db):
    return UserFactory(username="ada", email="ada@example.org")


def deliver_all() -> list:
    """Run every pending delivery, as the worker would; the messages sent."""
    before = len(mail.outbox)
    for notification in Notification.objects.filter(status="pending"):
        assert deliver_notification(notification.pk) is True
    return mail.outbox[before:]


def reset_link(message) -> dict[str, str]:
    (url,) = re.findall(r"https://app\.example/reset\?\S+", message.body)
    html = {mime: body for body, mime in message.alternatives}["text/html"]
    assert url.replace("&", "&amp;") in html
    query = parse_qs(urlsplit(url).query)
    return {"uid": query["uid"][0], "token": query["token"][0]}


def request_link(api_client, email: str = "ada@example.org") -> dict[str, str]:
    assert api_client.post(RESET, {"email": email}, format="json").status_code == 202
    (message,) = deliver_all()
    return reset_link(message)


def test_the_whole_reset_flow_through_the_mail(api_client, ada):
    token = Token.objects.create(user=ada)
    response = api_client.post(RESET, {"email": "ADA@example.org"}, format="json")
    assert response.status_code == 202
    assert response.content == b""
    (message,) = deliver_all()
    assert message.to == ["ada@example.org"]
    assert message.subject == "Reset your Placemap password"
    assert "It works once, for 60 minutes." in message.body  # PASSWORD_RESET_TIMEOUT 3600
    link = reset_link(message)
    # Nothing that opens the account is stored: the token is made when the mail renders.
    notification = Notification.objects.get(event=PASSWORD_RESET_EVENT)
    assert notification.payload == {"user_id": ada.pk}
    assert link["token"] not in str(notification.payload)

    response = api_client.post(CONFIRM, {**link, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 204
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)
    assert not Token.objects.filter(pk=token.pk).exists()
    # The old key is refused, the new password signs in.
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    assert api_client.get("/api/v1/me").status_code == 401
    api_client.credentials()
    signed_in = api_client.post(
        "/api/v1/auth/token", {"username": "ada", "password": NEW_PASSWORD}, format="json"
    )
    assert signed_in.status_code == 200


def test_a_link_works_once(api_client, ada):
    link = request_link(api_client)
    first = api_client.post(CONFIRM, {**link, "new_password": NEW_PASSWORD}, format="json")
    assert first.status_code == 204
    again = api_client.post(CONFIRM, {**link, "new_password": "yet-An0ther-secret"}, format="json")
    assert again.status_code == 400
    assert again["Content-Type"] == "application/problem+json"
    assert "token" in again.json()["errors"]
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)


def test_a_link_expires(api_client, ada, settings):
    link = request_link(api_client)
    settings.PASSWORD_RESET_TIMEOUT = 1
    time.sleep(2.1)
    response = api_client.post(CONFIRM, {**link, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["token"]
    ada.refresh_from_db()
    assert ada.check_password(DEFAULT_PASSWORD)


@pytest.mark.parametrize(
    "change",
    [
        {"token": "abc-def"},
        {"uid": "other"},  # another account's uid with ada's token
        {"uid": "!!not base64!!"},
        {"uid": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk"},  # beyond a bigint
    ],
)
def test_a_wrong_uid_or_token_is_a_400_naming_token(api_client, ada, change):
    other = UserFactory(username="other")
    link = request_link(api_client)
    if change.get("uid") == "other":
        change = {"uid": password_reset_uid(other)}
    response = api_client.post(
        CONFIRM, {**link, **change, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["token"]
    ada.refresh_from_db()
    assert ada.check_password(DEFAULT_PASSWORD)


def test_a_link_stops_working_once_the_password_changed(api_client, ada):
    link = request_link(api_client)
    ada.set_password("changed-Elsewhere-77")
    ada.save()
    response = api_client.post(CONFIRM, {**link, "new_password": NEW_PASSWORD}, format="json")
    assert response.status_code == 400


@pytest.mark.parametrize("password", ["12345678", "password", "short", "ada@example.org"])
def test_the_new_password_meets_the_validators(api_client, ada, password):
    link = request_link(api_client)
    response = api_client.post(CONFIRM, {**link, "new_password": password}, format="json")
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["new_password"]
    # The link was not used up by the refusal.
    ok = api_client.post(CONFIRM, {**link, "new_password": NEW_PASSWORD}, format="json")
    assert ok.status_code == 204


def test_an_unknown_address_answers_the_same_and_mails_nobody(api_client, ada):
    known = api_client.post(RESET, {"email": "ada@example.org"}, format="json")
    unknown = api_client.post(RESET, {"email": "nobody@example.org"}, format="json")
    assert (unknown.status_code, unknown.content) == (known.status_code, known.content)
    assert unknown.headers.keys() == known.headers.keys()
    assert len(deliver_all()) == 1  # ada's only


def test_an_inactive_account_gets_no_mail(api_client, ada):
    ada.is_active = False
    ada.save()
    assert api_client.post(RESET, {"email": "ada@example.org"}, format="json").status_code == 202
    assert deliver_all() == []
    assert not Notification.objects.exists()


def test_a_bad_address_is_a_400(api_client):
    response = api_client.post(RESET, {"email": "not an address"}, format="json")
    assert response.status_code == 400
    assert "email" in response.json()["errors"]


def test_reset_requests_are_throttled(api_client, ada, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "password_reset": "2/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    for _ in range(2):
        assert api_client.post(RESET, {"email": "x@example.org"}, format="json").status_code == 202
    response = api_client.post(RESET, {"email": "ada@example.org"}, format="json")
    assert response.status_code == 429
    assert response["Content-Type"] == "application/problem+json"
    assert int(response["Retry-After"]) >= 1
    assert deliver_all() == []


# --- Change ---------------------------------------------------------------------------


@pytest.fixture
def ada_client(api_client, ada):
    token = Token.objects.create(user=ada)
    api_client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return api_client


def test_a_signed_in_user_changes_their_password_and_the_token_is_revoked(ada_client, ada):
    response = ada_client.post(
        CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 204
    ada.refresh_from_db()
    assert ada.check_password(NEW_PASSWORD)
    assert not Token.objects.filter(user=ada).exists()
    assert ada_client.get("/api/v1/me").status_code == 401


def test_a_wrong_old_password_is_a_400_naming_it(ada_client, ada):
    response = ada_client.post(
        CHANGE, {"old_password": "not-it", "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["old_password"]
    ada.refresh_from_db()
    assert ada.check_password(DEFAULT_PASSWORD)
    assert Token.objects.filter(user=ada).exists()


@pytest.mark.parametrize("password", ["12345678", "short", "ada"])
def test_a_changed_password_meets_the_validators(ada_client, ada, password):
    response = ada_client.post(
        CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": password}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()["errors"]) == ["new_password"]
    ada.refresh_from_db()
    assert ada.check_password(DEFAULT_PASSWORD)


def test_changing_needs_a_signed_in_user(api_client):
    response = api_client.post(
        CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 401


def test_a_suspended_user_may_still_change_their_password(ada_client, ada):
    from accounts.services import suspension_create

    suspension_create(user=ada, reason="spam", created_by=None)
    response = ada_client.post(
        CHANGE, {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD}, format="json"
    )
    assert response.status_code == 204


def test_a_browser_session_stays_signed_in_after_a_change(client, ada):
    client.force_login(ada)
    response = client.post(
        CHANGE,
        {"old_password": DEFAULT_PASSWORD, "new_password": NEW_PASSWORD},
        content_type="application/json",
    )
    assert response.status_code == 204, response.content
    assert client.get("/api/v1/me").status_code == 200


def test_password_changes_are_throttled_per_user(ada_client, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "auth": "2/minute"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    wrong = {"old_password": "guess", "new_password": NEW_PASSWORD}
    for _ in range(2):
        assert ada_client.post(CHANGE, wrong, format="json").status_code == 400
    response = ada_client.post(CHANGE, wrong, format="json")
    assert response.status_code == 429
    assert int(response["Retry-After"]) >= 1
