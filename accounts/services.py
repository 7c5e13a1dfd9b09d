from django.conf import settings
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from rest_framework.authtoken.models import Token

from accounts.models import User


class UsernameTaken(ValueError):
    pass


class InvalidCredentials(ValueError):
    pass


@transaction.atomic
def user_register(*, username: str, email: str, password: str) -> User:
    """Create an account. Raises UsernameTaken, or ValidationError for a weak password."""
    if User.objects.filter(username__iexact=username).exists():
        raise UsernameTaken(username)
    user = User(username=username, email=email)
    validate_password(password, user=user)
    user.set_password(password)
    user.save()
    return user


def token_obtain(*, username: str, password: str) -> Token:
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials(username)
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: User) -> None:
    Token.objects.filter(user=user).delete()


def moderators_group() -> Group:
    group, _ = Group.objects.get_or_create(name=settings.MODERATORS_GROUP)
    return group


def moderator_grant(*, user: User) -> None:
    user.groups.add(moderators_group())


def moderator_revoke(*, user: User) -> None:
    user.groups.remove(moderators_group())


__all__ = [
    "InvalidCredentials",
    "UsernameTaken",
    "ValidationError",
    "moderator_grant",
    "moderator_revoke",
    "token_obtain",
    "token_revoke",
    "user_register",
]
