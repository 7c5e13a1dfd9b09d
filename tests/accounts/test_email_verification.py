"""Email verification, the language preference and PATCH /me (docs/accounts.md): the
whole flow through the mail outbox, delivered the way a worker does (the delivery task
run inline), in each ACCOUNT_EMAIL_VERIFICATION mode."""

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from django.core import mail
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from accounts.events import EMAIL_VERIFICATION_EVENT
from accounts.models import User
from accounts.services import email_verification_token, password_reset_uid, suspension_create
from accounts.tokens import email_verification_token_generator
from notifications.models import Notification
from notifications.tasks import deliver_notification
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.support import assert_problem

pytestmark = pytest.mark.django_db

REGISTER = "/api/v1/auth/register"
VERIFY = "/api/v1/auth/email/verify"
RESEND = "/api/v1/auth/email/verify/resend"
ME = "/api/v1/me"
PLACE = {
    "name": "Tempelhofer Feld",
    "description": "Former airport, now a park.",
    "category": "park",
    "latitude": 52.4731,
    "longitude": 13.4039,
}


@pytest.fixture(autouse=True)
def _verification_url(settings):
    settings.EMAIL_VERIFICATION_URL = "https://app.example/verify?from=mail"


@pytest.fixture
def mandatory(settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "mandatory"


def deliver_all() -> list:
    """Run every pending delivery, as the worker would; the messages sent."""
    before = len(mail.outbox)
    for notification in Notification.objects.filter(status="pending").order_by("pk"):
        assert deliver_notification(notification.pk) is True
    return mail.outbox[before:]


def verify_link(message) -> dict[str, str]:
    (url,) = re.findall(r"https://app\.example/verify\?\S+", message.body)
    html = {mime: body for body, mime in message.alternatives}["text/html"]
    assert url.replace("&", "&amp;") in html
    query = parse_qs(urlsplit(url).query)
    assert query["from"] == ["mail"]  # the page's own query is kept
    return {"uid": query["uid"][0], "token": query["token"][0]}


def register(client: APIClient, username: str = "ada", **extra) -> dict:
    body = {"username": username, "email": f"{username}@example.org", "password": DEFAULT_PASSWORD}
    response = client.post(REGISTER, {**body, **extra}, format="json")
    assert response.status_code == 201, response.content
    return response.json()


def signed_in(username: str) -> APIClient:
    client = APIClient()
    token, _ = Token.objects.get_or_create(user=User.objects.get(username=username))
    client.credentials(HTTP_AUTHORIZATION=f"Token {token.key}")
    return client


# --- The flow ------------------------------------------------------------------------


def test_registration_mails_a_link_that_verifies_the_address_once(api_client, mandatory):
    created = register(api_client)
    assert created["email_verified"] is False
    (message,) = deliver_all()
    assert message.to == ["ada@example.org"]
    assert message.subject == "Verify your Placemap email address"
    assert "The link works once, for 72 hours." in message.body  # 3 days by default
    link = verify_link(message)
    # Nothing that verifies the account is stored: the token is made when the mail renders.
    notification = Notification.objects.get(event=EMAIL_VERIFICATION_EVENT)
    assert link["token"] not in str(notification.payload)

    ada = signed_in("ada")
    assert ada.get(ME).json()["email_verified"] is False
    assert api_client.post(VERIFY, link, format="json").status_code == 204
    assert ada.get(ME).json()["email_verified"] is True

    again = api_client.post(VERIFY, link, format="json")
    assert_problem(again, 400, field="token")


def test_an_expired_link_is_refused(api_client, settings):
    ada = UserFactory(username="ada", email_verified=False)
    settings.EMAIL_VERIFICATION_TIMEOUT = 3600
    generator = email_verification_token_generator
    now = generator._num_seconds(generator._now())
    uid = password_reset_uid(ada)
    # Tokens as the generator made them 61 and 59 minutes ago.
    stale = generator._make_token_with_timestamp(ada, now - 61 * 60, generator.secret)
    fresh = generator._make_token_with_timestamp(ada, now - 59 * 60, generator.secret)
    assert_problem(api_client.post(VERIFY, {"uid": uid, "token": stale}), 400, field="token")
    ada.refresh_from_db()
    assert ada.email_verified is False
    assert api_client.post(VERIFY, {"uid": uid, "token": fresh}).status_code == 204
    ada.refresh_from_db()
    assert ada.email_verified is True


@pytest.mark.parametrize(
    "change",
    [
        {"token": "abc-def"},
        {"token": "nodash"},
        {"uid": "other"},  # another account's uid with ada's token
        {"uid": "!!not base64!!"},
        {"uid": "OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk"},  # beyond a bigint
        {"token": "password-reset"},  # a reset token is not a verification token
    ],
)
def test_a_wrong_uid_or_token_is_a_400_naming_token(api_client, change):
    from accounts.services import password_reset_token

    ada = UserFactory(username="ada", email_verified=False)
    other = UserFactory(username="other", email_verified=False)
    link = {"uid": password_reset_uid(ada), "token": email_verification_token(ada)}
    if change.get("uid") == "other":
        change = {"uid": password_reset_uid(other)}
    if change.get("token") == "password-reset":
        change = {"token": password_reset_token(ada)}
    response = api_client.post(VERIFY, {**link, **change}, format="json")
    assert_problem(response, 400, field="token")
    assert User.objects.filter(email_verified=True).count() == 0


def test_a_refusal_says_nothing_about_whether_the_account_exists(api_client):
    ada = UserFactory(username="ada", email_verified=False)
    token = email_verification_token(ada)
    unknown_uid = api_client.post(VERIFY, {"uid": "OTk5OTk", "token": token}, format="json")
    wrong_token = api_client.post(
        VERIFY, {"uid": password_reset_uid(ada), "token": "1-abc"}, format="json"
    )
    a, b = unknown_uid.json(), wrong_token.json()
    assert (a["status"], a["type"], a["errors"]) == (b["status"], b["type"], b["errors"])


def test_changing_the_address_reverifies_it_at_the_new_one(api_client):
    register(api_client)
    (first,) = deliver_all()
    old_link = verify_link(first)
    ada = signed_in("ada")

    response = ada.patch(ME, {"email": "ada@new.example"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["email"] == "ada@new.example"
    assert response.json()["email_verified"] is False
    second, notice = sorted(deliver_all(), key=lambda message: message.to != ["ada@new.example"])
    assert second.to == ["ada@new.example"]
    assert notice.to == ["ada@example.org"]  # the old address hears of it (below)
    # The link mailed to the old address dies with it.
    assert_problem(api_client.post(VERIFY, old_link, format="json"), 400, field="token")
    assert api_client.post(VERIFY, verify_link(second), format="json").status_code == 204
    assert ada.get(ME).json()["email_verified"] is True

    # A verified address changed: unverified again, a link to the newest address.
    assert ada.patch(ME, {"email": "ada@third.example"}, format="json").status_code == 200
    assert ada.get(ME).json()["email_verified"] is False
    sent = deliver_all()
    assert sorted(message.to[0] for message in sent) == ["ada@new.example", "ada@third.example"]
    (third,) = [message for message in sent if message.to == ["ada@third.example"]]
    assert "verify" in third.body


def test_the_same_address_in_other_letters_stays_verified(api_client):
    UserFactory(username="ada", email="ada@example.org")
    response = signed_in("ada").patch(ME, {"email": "Ada@Example.org"}, format="json")
    assert (response.json()["email"], response.json()["email_verified"]) == (
        "Ada@Example.org",
        True,
    )
    assert deliver_all() == []


def test_the_old_address_is_told_of_a_change_in_the_account_language(api_client):
    UserFactory(username="ada", email="ada@example.org", language="de")
    response = signed_in("ada").patch(ME, {"email": "ada@new.example"}, format="json")
    assert response.status_code == 200
    (notice,) = [message for message in deliver_all() if message.to == ["ada@example.org"]]
    assert notice.subject == "Ihre E-Mail-Adresse bei Placemap wurde geändert"
    for body in (notice.body, {m: b for b, m in notice.alternatives}["text/html"]):
        assert "ada@example.org" in body and "ada@new.example" in body
        assert "Placemap-Team" in body
    # No link in it: the notice is for the old mailbox's owner, not the account's.
    assert "token" not in notice.body
    stored = Notification.objects.get(event="accounts.email_changed")
    assert stored.payload["old_email"] == "ada@example.org"


def test_an_address_given_to_an_account_without_one_tells_nobody_else(api_client):
    UserFactory(username="ada", email="")
    assert (
        signed_in("ada").patch(ME, {"email": "ada@new.example"}, format="json").status_code == 200
    )
    assert [message.to for message in deliver_all()] == [["ada@new.example"]]


def test_an_address_another_account_uses_is_accepted_like_any_other(api_client):
    # Addresses are not unique (registration does not check them either): the answer
    # must not tell whether someone else has this one.
    UserFactory(username="grace", email="grace@example.org")
    UserFactory(username="ada")
    taken = signed_in("ada").patch(ME, {"email": "grace@example.org"}, format="json")
    fresh = signed_in("ada").patch(ME, {"email": "nobody@example.org"}, format="json")
    assert taken.status_code == fresh.status_code == 200
    assert taken.json().keys() == fresh.json().keys()


# --- Modes ---------------------------------------------------------------------------


def test_mandatory_lets_an_unverified_user_sign_in_and_read_but_not_write(api_client, mandatory):
    register(api_client)
    login = api_client.post(
        "/api/v1/auth/token", {"username": "ada", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert login.status_code == 200
    ada = signed_in("ada")
    assert ada.get(ME).status_code == 200
    assert ada.get("/api/v1/me/locations").status_code == 200
    assert ada.get("/api/v1/categories").status_code == 200

    refused = ada.post("/api/v1/locations", PLACE, format="json")
    assert_problem(refused, 403)
    body = refused.json()
    assert body["type"] == "https://placemap.dev/problems/email-unverified"
    assert body["title"] == "Verify your email address"
    assert "/auth/email/verify/resend" in body["detail"]

    (message,) = deliver_all()
    assert api_client.post(VERIFY, verify_link(message), format="json").status_code == 204
    assert ada.post("/api/v1/locations", PLACE, format="json").status_code == 201


def test_mandatory_still_lets_an_unverified_user_fix_their_profile_and_leave(api_client, mandatory):
    register(api_client)
    ada = signed_in("ada")
    patched = ada.patch(ME, {"email": "ada@typo-fixed.example", "language": "de"}, format="json")
    assert patched.status_code == 200
    assert ada.post(RESEND).status_code == 202
    assert ada.get("/api/v1/me/export").status_code == 200
    assert ada.delete(ME, {"password": DEFAULT_PASSWORD, "places": "delete"}).status_code == 200
    assert not User.objects.filter(username="ada").exists()


@pytest.mark.parametrize("mode", ["optional", "none"])
def test_optional_and_none_never_refuse_an_unverified_user(api_client, settings, mode):
    settings.ACCOUNT_EMAIL_VERIFICATION = mode
    created = register(api_client)
    assert created["email_verified"] is False
    response = signed_in("ada").post("/api/v1/locations", PLACE, format="json")
    assert response.status_code == 201, response.content
    sent = [m for m in deliver_all() if "Verify" in m.subject]
    # optional mails the link, none does not.
    assert len(sent) == (1 if mode == "optional" else 0)


def test_none_sends_no_link_on_an_address_change_and_refuses_a_resend(api_client, settings):
    settings.ACCOUNT_EMAIL_VERIFICATION = "none"
    UserFactory(username="ada", email="ada@example.org", email_verified=False)
    ada = signed_in("ada")
    assert ada.patch(ME, {"email": "ada@new.example"}, format="json").status_code == 200
    # Only the notice to the old address: it is about security, not verification.
    (notice,) = deliver_all()
    assert notice.to == ["ada@example.org"]
    refused = ada.post(RESEND)
    assert_problem(refused, 409)
    assert "turned off" in refused.json()["detail"]


def test_a_verified_user_writes_under_mandatory(mandatory):
    UserFactory(username="ada")  # the factory's accounts are verified
    assert signed_in("ada").post("/api/v1/locations", PLACE, format="json").status_code == 201


def test_a_suspended_user_cannot_change_their_profile(api_client):
    ada = UserFactory(username="ada")
    suspension_create(user=ada, reason="spam", created_by=None)
    response = signed_in("ada").patch(ME, {"language": "fr"}, format="json")
    assert_problem(response, 403)
    ada.refresh_from_db()
    assert ada.language == "en"


# --- Resend --------------------------------------------------------------------------


def test_resend_mails_a_new_link_and_is_throttled_per_user(api_client, settings):
    rates = {**settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"], "verify_resend": "2/hour"}
    settings.REST_FRAMEWORK = {**settings.REST_FRAMEWORK, "DEFAULT_THROTTLE_RATES": rates}
    UserFactory(username="ada", email_verified=False)
    UserFactory(username="grace", email_verified=False)
    ada = signed_in("ada")
    for _ in range(2):
        response = ada.post(RESEND)
        assert response.status_code == 202
        assert response.content == b""
    refused = ada.post(RESEND)
    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert int(refused["Retry-After"]) >= 1
    # Another account has its own budget.
    assert signed_in("grace").post(RESEND).status_code == 202
    sent = deliver_all()
    assert [m.to for m in sent] == [["ada@example.org"]] * 2 + [["grace@example.org"]]
    # Either of ada's links works (nothing changed between them), once.
    assert api_client.post(VERIFY, verify_link(sent[1]), format="json").status_code == 204
    assert_problem(api_client.post(VERIFY, verify_link(sent[0]), format="json"), 400)


def test_resend_refuses_a_verified_address_and_an_anonymous_caller(api_client):
    UserFactory(username="ada")
    refused = signed_in("ada").post(RESEND)
    assert_problem(refused, 409)
    assert refused.json()["detail"] == "Your email address is already verified."
    assert api_client.post(RESEND).status_code == 401
    assert deliver_all() == []


# --- Language and the profile ----------------------------------------------------------


def test_registration_takes_the_language_or_the_accept_language_header(api_client):
    assert register(api_client, "ada", language="fr")["language"] == "fr"
    api_client.credentials(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.5")
    assert register(api_client, "grace")["language"] == "de"
    api_client.credentials(HTTP_ACCEPT_LANGUAGE="pt-BR,es;q=0.8")
    assert register(api_client, "alan")["language"] == "en"
    api_client.credentials()
    response = api_client.post(
        REGISTER,
        {
            "username": "edsger",
            "email": "e@example.org",
            "password": DEFAULT_PASSWORD,
            "language": "xx",
        },
        format="json",
    )
    assert_problem(response, 400, field="language")


def test_the_profile_shows_and_changes_the_language(api_client):
    UserFactory(username="ada")
    ada = signed_in("ada")
    me = ada.get(ME).json()
    assert (me["language"], me["email_verified"]) == ("en", True)
    response = ada.patch(ME, {"language": "de"}, format="json")
    assert response.status_code == 200
    assert response.json()["language"] == "de"
    assert User.objects.get(username="ada").language == "de"
    assert deliver_all() == []  # a language change mails nothing


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"language": "es"}, "language"),
        ({"email": "not an address"}, "email"),
        ({"email": ""}, "email"),
        ({"username": "someone-else"}, "username"),
        ({"email_verified": True}, "email_verified"),
    ],
)
def test_a_bad_or_unchangeable_field_is_a_400_naming_it(body, field):
    UserFactory(username="ada", email_verified=False)
    response = signed_in("ada").patch(ME, body, format="json")
    assert_problem(response, 400, field=field)
    ada = User.objects.get(username="ada")
    assert (ada.username, ada.email, ada.language, ada.email_verified) == (
        "ada",
        "ada@example.org",
        "en",
        False,
    )


def test_patching_the_profile_needs_a_signed_in_user(api_client):
    assert api_client.patch(ME, {"language": "de"}, format="json").status_code == 401


# --- Existing accounts ------------------------------------------------------------------


def test_the_migration_marks_existing_accounts_verified():
    import importlib

    from django.apps import apps

    migration = importlib.import_module("accounts.migrations.0005_email_verified_language")
    UserFactory(username="old1", email_verified=False)
    UserFactory(username="old2", email_verified=False)
    migration.mark_existing_accounts_verified(apps, None)
    assert set(User.objects.values_list("email_verified", flat=True)) == {True}


def test_the_demo_accounts_are_verified():
    from django.core.management import call_command

    UserFactory(username="alice", email_verified=False)  # an older seed's account
    call_command("seed_demo", stdout=open("/dev/null", "w"))  # noqa: SIM115
    demo = User.objects.filter(email__endswith="@placemap.local")
    assert demo.exists()
    assert not demo.filter(email_verified=False).exists()
    assert User.objects.get(username="alice").email_verified is True
