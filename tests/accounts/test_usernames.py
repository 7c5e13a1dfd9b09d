"""Usernames are normalised like all text, and a name that looks like a taken one
(accounts.usernames.username_skeleton) is refused, race-safely via a unique column."""

import io

import pytest
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction
from django.urls import reverse

from accounts import services
from accounts.models import User
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory
from tests.support import logged_in

REGISTER = "/api/v1/auth/register"


@pytest.fixture(autouse=True)
def _db(db):
    pass


def _register(api_client, username):
    return api_client.post(
        REGISTER,
        {"username": username, "email": "x@example.org", "password": DEFAULT_PASSWORD},
        format="json",
    )


@pytest.mark.parametrize(
    "look_alike",
    [
        "\u0430dmin",  # Cyrillic small a
        "ADMIN",
        "\uff41\uff44\uff4d\uff49\uff4e",  # full-width (NFKC)
        "\u0391dmin",  # Greek capital alpha
        "\u200badmin\u00a0",  # invisible and surrounding characters
        "adm\u0131n",  # dotless i
    ],
)
def test_it_refuses_a_username_that_looks_like_a_taken_one(api_client, look_alike):
    UserFactory(username="admin")

    response = _register(api_client, look_alike)

    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert response.json()["errors"]["username"] == ["This username is already taken."]
    assert User.objects.count() == 1


@pytest.mark.parametrize("username", ["\u200b\u200b\u200b", "\u00a0ab\u00a0", "a\u2060b"])
def test_it_refuses_a_username_made_long_enough_by_invisible_characters(api_client, username):
    response = _register(api_client, username)

    assert response.status_code == 400
    assert "username" in response.json()["errors"]
    assert not User.objects.exists()


def test_it_stores_the_username_without_surrounding_spaces_and_logs_in_with_it(api_client):
    assert _register(api_client, "\u00a0alice\u200b").status_code == 201
    assert User.objects.get().username == "alice"

    token = api_client.post(
        "/api/v1/auth/token", {"username": " alice", "password": DEFAULT_PASSWORD}, format="json"
    )
    assert token.status_code == 200


def test_it_still_accepts_names_that_only_share_letters(api_client):
    UserFactory(username="admin")

    assert _register(api_client, "admins").status_code == 201
    assert _register(api_client, "\u0430lice").status_code == 201  # no Latin alice yet


def test_the_database_refuses_a_second_look_alike_account(db):
    UserFactory(username="moderator")

    # Past the service's check (as a racing sign-up would be): the unique column decides.
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(username="m\u043ederator")  # Cyrillic o


def test_user_register_turns_the_collision_into_username_taken(db):
    services.user_register(username="bob", email="", password=DEFAULT_PASSWORD)

    with pytest.raises(services.UsernameTaken):
        services.user_register(username="B\u03bf\u0432", email="", password=DEFAULT_PASSWORD)


def test_the_migration_backfill_keeps_the_oldest_of_two_look_alikes(db):
    from importlib import import_module

    from django.apps import apps

    backfill = import_module("accounts.migrations.0002_username_skeleton").backfill
    first = UserFactory(username="carol")
    # Two look-alikes as they could exist before the column: bulk_create skips save().
    (second,) = User.objects.bulk_create([User(username="c\u0430rol")])
    User.objects.update(username_skeleton=None)

    backfill(apps, None)

    first.refresh_from_db()
    second.refresh_from_db()
    assert first.username_skeleton == "carol"
    assert second.username_skeleton is None


def test_the_console_refuses_a_look_alike_username_without_a_server_error():
    UserFactory(username="admin")
    browser = logged_in(UserFactory(is_staff=True, is_superuser=True))

    response = browser.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "\u0430dmin",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
            "usable_password": "true",
        },
    )

    assert response.status_code == 200
    assert "looks like it, is taken" in response.content.decode()
    assert not User.objects.filter(username="\u0430dmin").exists()


def test_the_console_still_adds_a_distinct_username():
    browser = logged_in(UserFactory(is_staff=True, is_superuser=True))

    response = browser.post(
        reverse("admin:accounts_user_add"),
        {
            "username": "\u00a0dora",
            "password1": DEFAULT_PASSWORD,
            "password2": DEFAULT_PASSWORD,
            "usable_password": "true",
        },
    )

    assert response.status_code == 302
    assert User.objects.get(username="dora").username_skeleton == "dora"


def test_createsuperuser_refuses_a_look_alike_username_without_a_database_error(monkeypatch):
    UserFactory(username="admin")
    monkeypatch.setenv("DJANGO_SUPERUSER_PASSWORD", DEFAULT_PASSWORD)

    with pytest.raises(CommandError, match="looks like it, is taken"):
        call_command(
            "createsuperuser",
            "--no-input",
            username="\u0430dmin",
            email="root@example.org",
            stdout=io.StringIO(),
        )
    assert not User.objects.filter(username="\u0430dmin").exists()

    call_command(
        "createsuperuser",
        "--no-input",
        username="root",
        email="r@example.org",
        stdout=io.StringIO(),
    )
    root = User.objects.get(username="root")
    assert root.is_superuser and root.email_verified
