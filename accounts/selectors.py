from django.conf import settings
from django.db.models import Q, QuerySet
from django.utils import timezone
from rest_framework.authtoken.models import Token

from accounts.gdpr import export_timestamp, sections
from accounts.models import Suspension, User


def user_is_moderator(user) -> bool:
    """Moderators: active members of the `moderators` group, staff and superusers."""
    if not getattr(user, "is_authenticated", False) or not user.is_active:
        return False
    if user.is_staff or user.is_superuser:
        return True
    return user.groups.filter(name=settings.MODERATORS_GROUP).exists()


def moderators() -> QuerySet[User]:
    return (
        User.objects.filter(is_active=True)
        .filter(Q(is_staff=True) | Q(is_superuser=True) | Q(groups__name=settings.MODERATORS_GROUP))
        .distinct()
    )


def moderators_wanting_digest() -> QuerySet[User]:
    """Active moderators who asked for the digest and have an email address."""
    return moderators().filter(wants_moderation_digest=True).exclude(email="").order_by("pk")


# --- GDPR: everything held about one user (docs/gdpr.md) ------------------------------


def user_personal_data(*, user: User) -> dict:
    """Everything Placemap holds about `user`, as JSON-ready data, and nothing about
    anyone else: moderators stay anonymous, other people's photos on the user's places
    are left out. Credentials (password hash, token keys) are not data to hand out.
    The profile is accounts' own; every other key is an app's section (accounts.gdpr)."""
    data: dict[str, object] = {
        "profile": {
            "id": user.id,
            "username": user.username,
            "email": user.email,
            "first_name": user.first_name,
            "last_name": user.last_name,
            "date_joined": export_timestamp(user.date_joined),
            "last_login": export_timestamp(user.last_login),
            "is_active": user.is_active,
            "is_moderator": user_is_moderator(user),
            "wants_moderation_digest": user.wants_moderation_digest,
            "email_verified": user.email_verified,
            "language": user.language,
            # Who set it is the moderators' data, not the user's: left out.
            "trust_override": user.trust_override,
            "trust_set_at": export_timestamp(user.trust_set_at),
            "groups": sorted(user.groups.values_list("name", flat=True)),
            "api_tokens": [
                {"created": export_timestamp(created)}
                for created in Token.objects.filter(user=user).values_list("created", flat=True)
            ],
        },
    }
    for section in sections():
        data[section.key] = section.export(user=user)
    return data


# --- Suspensions (moderation.services writes them; every write view reads them) -----


def user_active_suspension(user) -> Suspension | None:
    """The suspension that applies to `user` now: not lifted and not expired (an expired
    one simply stops applying; no job lifts it). None for anonymous users."""
    if not getattr(user, "is_authenticated", False):
        return None
    return (
        Suspension.objects.filter(user_id=user.pk, lifted_at__isnull=True)
        .filter(Q(until__isnull=True) | Q(until__gt=timezone.now()))
        .first()
    )


def user_suspensions(*, user) -> QuerySet[Suspension]:
    """Every suspension of `user`, newest first (the console and the GDPR export)."""
    return Suspension.objects.filter(user=user).order_by("-created_at", "-id")


def user_by_username(*, username: str) -> User:
    """The account named `username`. Raises User.DoesNotExist."""
    return User.objects.get(username=username)


def user_trust_override(user) -> str:
    """The user's trust override as stored now (not as the request's user object was
    loaded): a grant or withdrawal applies from the next write."""
    return User.objects.filter(pk=user.pk).values_list("trust_override", flat=True).first() or ""


def users_for_password_reset(*, email: str) -> QuerySet[User]:
    """Accounts a reset mail to `email` may recover: active, with a usable password
    (Django's PasswordResetForm rule). Addresses are not unique: each one gets a link."""
    return User.objects.filter(email__iexact=email, is_active=True).exclude(
        password__startswith="!"  # noqa: S106 (set_unusable_password())
    )


# --- Email verification (docs/accounts.md) ----------------------------------------------


def email_verification_mode() -> str:
    """ACCOUNT_EMAIL_VERIFICATION, read at each use (mandatory, optional or none)."""
    return settings.ACCOUNT_EMAIL_VERIFICATION


def user_must_verify_email(user) -> bool:
    """Whether `user`'s writes wait for a verified address: a signed-in account whose
    address is not verified, while verification is mandatory."""
    return (
        email_verification_mode() == "mandatory"
        and getattr(user, "is_authenticated", False)
        and not user.email_verified
    )
