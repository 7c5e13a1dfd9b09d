import pytest
from django.core.management import call_command
from rest_framework.authtoken.models import Token

from accounts.models import User
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db


def test_it_registers_a_user_and_hides_the_password(api_client):
    response = api_client.post(
        "/api/v1/auth/register",
        {"username": "mapper", "email": "mapper@example.org", "password": "correct-Horse-42"},
    )
    assert response.status_code == 201
    assert response.json()["username"] == "mapper"
    assert "password" not in response.json()
    assert User.objects.get(username="mapper").check_password("correct-Horse-42")


def test_it_refuses_a_duplicate_username_whatever_the_case(api_client):
    UserFactory(username="mapper")
    response = api_client.post(
        "/api/v1/auth/register",
        {"username": "MAPPER", "email": "x@example.org", "password": "correct-Horse-42"},
    )
    assert response.status_code == 400
    assert response["Content-Type"] == "application/problem+json"
    assert "username" in response.json()["errors"]


@pytest.mark.parametrize("password", ["12345678", "password", "short"])
def test_it_refuses_a_weak_password(api_client, password):
    response = api_client.post(
        "/api/v1/auth/register",
        {"username": "mapper", "email": "m@example.org", "password": password},
    )
    assert response.status_code == 400
    assert "password" in response.json()["errors"]
    assert not User.objects.filter(username="mapper").exists()


def test_a_token_opens_me_and_revoking_it_closes_it(api_client):
    user = UserFactory(username="alice")
    response = api_client.post(
        "/api/v1/auth/token", {"username": "alice", "password": DEFAULT_PASSWORD}
    )
    assert response.status_code == 200
    key = response.json()["token"]

    api_client.credentials(HTTP_AUTHORIZATION=f"Token {key}")
    me = api_client.get("/api/v1/me")
    assert me.status_code == 200
    assert me.json()["username"] == "alice"
    assert me.json()["is_moderator"] is False

    assert api_client.delete("/api/v1/auth/token").status_code == 204
    assert not Token.objects.filter(user=user).exists()
    assert api_client.get("/api/v1/me").status_code == 401


def test_a_wrong_password_gets_no_token(api_client):
    UserFactory(username="alice")
    response = api_client.post("/api/v1/auth/token", {"username": "alice", "password": "nope"})
    assert response.status_code == 401
    assert response.json()["status"] == 401


def test_me_needs_authentication(api_client):
    response = api_client.get("/api/v1/me")
    assert response.status_code == 401
    assert response["Content-Type"] == "application/problem+json"


def test_grant_moderator_adds_and_revoke_removes_the_group():
    user = UserFactory(username="bob")
    call_command("grant_moderator", "bob")
    assert user.groups.filter(name="moderators").exists()
    call_command("grant_moderator", "bob", "--revoke")
    assert not user.groups.filter(name="moderators").exists()


def test_grant_moderator_with_staff_opens_and_closes_the_admin_console():
    user = UserFactory(username="carol")
    call_command("grant_moderator", "carol", "--staff")
    user.refresh_from_db()
    assert user.is_staff and user.groups.filter(name="moderators").exists()
    call_command("grant_moderator", "carol", "--revoke", "--staff")
    user.refresh_from_db()
    assert not user.is_staff and not user.groups.exists()


def test_grant_moderator_names_an_unknown_user():
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="nobody"):
        call_command("grant_moderator", "nobody")
