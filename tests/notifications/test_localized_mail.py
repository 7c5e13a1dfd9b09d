"""Mails in the recipient's language (docs/accounts.md, "Localized mail"): each mail is
rendered with the recipient's User.language active, from the compiled catalogs
(notifications/locale, moderation/locale; tests/conftest.py compiles them when stale)."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings
from django.core import mail
from django.template import engines
from django.utils.translation import trans_real

from accounts.models import User
from locations.services import location_create
from moderation.constants import REASON_CODES
from moderation.services import location_approve, location_reject
from notifications.models import Notification, NotificationStatus
from notifications.tasks import deliver_notification
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

# What each language's mails must say (whole subjects; a telling sentence of each body).
EXPECTED = {
    "de": {
        "approved_subject": "Ihr Ort „Harbour steps“ ist jetzt auf der Karte",
        "approved_body": "Der Ort ist jetzt öffentlich auf der Karte und für alle auffindbar.",
        "rejected_subject": "Ihr Ort „Quay stairs“ wurde nicht freigegeben",
        "rejected_body": "Grund: Datenschutzbedenken",
        "reset_subject": "Setzen Sie Ihr Placemap-Passwort zurück",
        "reset_body": "Der Link funktioniert einmal, 60 Minuten lang.",
        "verify_subject": "Bestätigen Sie Ihre E-Mail-Adresse für Placemap",
        "verify_body": "Bitte bestätigen Sie, dass ada@example.org die Adresse Ihres "
        "Placemap-Kontos ist.",
        "hello": "Hallo ada,",
        "footer": "Sie erhalten diese E-Mail aufgrund Ihrer Aktivität auf Placemap.",
    },
    "fr": {
        "approved_subject": "Votre lieu « Harbour steps » est maintenant sur la carte",
        "approved_body": "Ce lieu est désormais public sur la carte, visible par tous.",
        "rejected_subject": "Votre lieu « Quay stairs » n\u2019a pas été approuvé",
        "rejected_body": "Motif : Atteinte à la vie privée",
        "reset_subject": "Réinitialisez votre mot de passe Placemap",
        "reset_body": "Le lien fonctionne une seule fois, pendant 60 minutes.",
        "verify_subject": "Confirmez votre adresse e-mail Placemap",
        "verify_body": "Veuillez confirmer que ada@example.org est bien l\u2019adresse de votre "
        "compte Placemap.",
        "hello": "Bonjour ada,",
        "footer": "Vous recevez cet e-mail en raison de votre activité sur Placemap.",
    },
    "en": {
        "approved_subject": 'Your place "Harbour steps" is now on the map',
        "approved_body": "It is now public on the map for everyone to find.",
        "rejected_subject": 'Your place "Quay stairs" was not approved',
        "rejected_body": "Reason: Privacy concern",
        "reset_subject": "Reset your Placemap password",
        "reset_body": "It works once, for 60 minutes.",
        "verify_subject": "Verify your Placemap email address",
        "verify_body": "Please confirm that ada@example.org is the address of your Placemap "
        "account.",
        "hello": "Hello ada,",
        "footer": "You receive this email because of your activity on Placemap.",
    },
}


def deliver_pending() -> list:
    sent_before = len(mail.outbox)
    for pk in Notification.objects.filter(status=NotificationStatus.PENDING).values_list(
        "pk", flat=True
    ):
        deliver_notification(pk)
    return mail.outbox[sent_before:]


def html_of(message) -> str:
    return {mime: body for body, mime in message.alternatives}["text/html"]


def assert_in_both(message, text: str) -> None:
    assert text in message.body, message.body
    html = html_of(message).replace("<strong>", "").replace("</strong>", "")
    assert text in html, html


def the_mails_of(ada, moderator, api_client, capture) -> dict:
    """Approval, rejection, reset and verification mails of `ada`, from their real
    callers (the services and the API)."""
    mails = {}
    with capture(execute=True):
        kept = location_create(
            submitter=ada,
            name="Harbour steps",
            category="viewpoint",
            latitude=52.52,
            longitude=13.4,
        )
        refused = location_create(
            submitter=ada, name="Quay stairs", category="viewpoint", latitude=52.53, longitude=13.4
        )
    deliver_pending()  # the two "received" mails
    with capture(execute=True):
        location_approve(location_id=kept.id, moderator=moderator)
    (mails["approved"],) = deliver_pending()
    with capture(execute=True):
        location_reject(
            location_id=refused.id, moderator=moderator, reason_code="privacy", reason="Faces."
        )
    (mails["rejected"],) = deliver_pending()
    assert api_client.post("/api/v1/auth/password/reset", {"email": ada.email}).status_code == 202
    (mails["reset"],) = deliver_pending()
    assert api_client.post("/api/v1/auth/email/verify/resend").status_code == 401
    api_client.force_authenticate(ada)
    assert api_client.post("/api/v1/auth/email/verify/resend").status_code == 202
    api_client.force_authenticate(None)
    (mails["verify"],) = deliver_pending()
    return mails


@pytest.mark.parametrize("language", ["de", "fr", "en"])
def test_each_mail_is_in_the_recipients_language(
    language, moderator, api_client, django_capture_on_commit_callbacks
):
    ada = UserFactory(username="ada", language=language, email_verified=False)
    mails = the_mails_of(ada, moderator, api_client, django_capture_on_commit_callbacks)
    expected = EXPECTED[language]
    for kind in ("approved", "rejected", "reset", "verify"):
        message = mails[kind]
        assert message.subject == expected[f"{kind}_subject"]
        assert_in_both(message, expected[f"{kind}_body"])
        assert_in_both(message, expected["hello"])
        assert_in_both(message, expected["footer"])
        assert f'<html lang="{language}">' in html_of(message)
    # The moderator's own words are never translated.
    assert "Faces." in mails["rejected"].body


def test_a_language_the_site_does_not_speak_falls_back_to_english(
    moderator, api_client, django_capture_on_commit_callbacks
):
    ada = UserFactory(username="ada", email_verified=False)
    # Written around the field's choices, as an older row or a removed language would be.
    User.objects.filter(pk=ada.pk).update(language="pt")
    ada.refresh_from_db()
    mails = the_mails_of(ada, moderator, api_client, django_capture_on_commit_callbacks)
    for kind in ("approved", "rejected", "reset", "verify"):
        assert mails[kind].subject == EXPECTED["en"][f"{kind}_subject"]
        assert f'<html lang="{settings.LANGUAGE_CODE}">' in html_of(mails[kind])


def test_a_german_registration_gets_its_link_in_german_and_it_works(api_client):
    response = api_client.post(
        "/api/v1/auth/register",
        {"username": "ada", "email": "ada@example.org", "password": DEFAULT_PASSWORD},
        format="json",
        headers={"Accept-Language": "de-AT,de;q=0.9"},
    )
    assert response.status_code == 201
    (message,) = deliver_pending()
    assert message.subject == EXPECTED["de"]["verify_subject"]
    url = next(word for word in message.body.split() if "token=" in word)
    query = parse_qs(urlsplit(url).query)
    confirm = {"uid": query["uid"][0], "token": query["token"][0]}
    assert api_client.post("/api/v1/auth/email/verify", confirm).status_code == 204


# --- The catalogs are complete ----------------------------------------------------------


def template_messages() -> set:
    """Every message id of the notification templates ({% trans %} and _()): singular
    strings, and (singular, plural) pairs."""
    env = engines["jinja2"].env
    found: set = set()
    for path in Path(settings.BASE_DIR, "templates", "notifications").rglob("*.*"):
        for _, function, message in env.extract_translations(path.read_text()):
            strings = [message] if isinstance(message, str) else [m for m in message if m]
            found.add(tuple(strings) if function == "ngettext" else strings[0])
    return found


def test_the_templates_have_messages_to_translate():
    messages = template_messages()
    # Subjects, bodies, the layout: at least one per template directory.
    assert len(messages) > 50
    assert "Verify your Placemap email address" in messages
    assert ("%(count)s place waiting for review", "%(count)s places waiting for review") in (
        messages
    )


@pytest.mark.parametrize("language", ["de", "fr"])
def test_every_message_of_the_mails_is_translated(language):
    catalog = trans_real.translation(language)._catalog
    wanted = template_messages() | set(REASON_CODES.values())
    missing = []
    for message in sorted(wanted, key=str):
        if isinstance(message, tuple):
            if not all(catalog.get((message[0], n)) for n in (0, 1)):
                missing.append(message[0])
        elif not catalog.get(message):
            missing.append(message)
    assert missing == [], f"translate these in {language}'s django.po (manage.py mail_messages)"


@pytest.mark.parametrize("language", ["de", "fr"])
def test_the_catalogs_hold_every_message_mail_messages_extracts(language, tmp_path):
    # What `manage.py mail_messages` would merge into the catalog: no message new to it
    # (it would arrive empty or fuzzy), and every placeholder kept (msgfmt --check).
    import shutil
    import subprocess

    from notifications.management.commands.mail_messages import pot_text, template_messages

    pot = tmp_path / "django.pot"
    pot.write_text(pot_text(template_messages(Path(settings.BASE_DIR, "templates/notifications"))))
    po = Path(settings.BASE_DIR, "notifications/locale", language, "LC_MESSAGES/django.po")
    merged = tmp_path / "merged.po"
    subprocess.run(
        [shutil.which("msgmerge"), "--quiet", "-o", str(merged), str(po), str(pot)], check=True
    )
    stats = subprocess.run(
        [shutil.which("msgfmt"), "--check", "--statistics", "-o", "/dev/null", str(merged)],
        check=True,
        capture_output=True,
        text=True,
    ).stderr
    assert "untranslated" not in stats and "fuzzy" not in stats, stats
    assert re.search(r"^\d+ translated messages\.$", stats, re.MULTILINE), stats
