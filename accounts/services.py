import json
import zipfile
from collections import Counter
from dataclasses import dataclass
from typing import BinaryIO

from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.auth import authenticate
from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.contrib.auth.tokens import default_token_generator
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.core.serializers.json import DjangoJSONEncoder
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.encoding import force_bytes, force_str
from django.utils.http import urlsafe_base64_decode, urlsafe_base64_encode
from opentelemetry import trace
from rest_framework.authtoken.models import Token

from accounts.events import (
    email_changed,
    email_verification_requested,
    password_reset_requested,
)
from accounts.gdpr import sections
from accounts.models import Suspension, User
from accounts.selectors import (
    email_verification_mode,
    user_active_suspension,
    user_personal_data,
    users_for_password_reset,
)
from accounts.tokens import email_verification_token_generator
from accounts.usernames import username_skeleton
from config.errors import ApplicationError, ConflictError, DependencyUnavailable
from config.timestamps import utc_timestamp

tracer = trace.get_tracer(__name__)


class UsernameTaken(ApplicationError):
    field = "username"
    default_detail = "This username is already taken."


class InvalidCredentials(ApplicationError):
    # The view turns it into DRF's AuthenticationFailed: only that one carries the
    # WWW-Authenticate header a 401 needs (DRF answers 403 without it).
    status = 401
    code = "authentication_failed"
    default_detail = "Unknown username or wrong password."


class ExportUnavailable(DependencyUnavailable):
    default_detail = "Photo storage is unavailable; retry the export later."


@transaction.atomic
def user_register(*, username: str, email: str, password: str, language: str = "en") -> User:
    """Create an account and, unless ACCOUNT_EMAIL_VERIFICATION is none, mail it a
    verification link. Raises UsernameTaken (the name, or one that looks like it, is
    taken: accounts.usernames), or ValidationError for a weak password."""
    skeleton = username_skeleton(username)
    if User.objects.filter(Q(username__iexact=username) | Q(username_skeleton=skeleton)).exists():
        raise UsernameTaken()
    user = User(username=username, email=email, language=language)
    validate_password(password, user=user)
    user.set_password(password)
    try:
        # The unique skeleton settles two look-alike sign-ups racing past the check.
        with transaction.atomic():
            user.save()
    except IntegrityError:
        raise UsernameTaken() from None
    if email_verification_mode() != "none":
        email_verification_requested.send(sender=User, user=user)
    return user


def token_obtain(*, username: str, password: str) -> Token:
    user = authenticate(username=username, password=password)
    if user is None or not user.is_active:
        raise InvalidCredentials()
    token, _ = Token.objects.get_or_create(user=user)
    return token


def token_revoke(*, user: User) -> None:
    Token.objects.filter(user=user).delete()


# --- Passwords (docs/accounts.md) ------------------------------------------------------


class InvalidResetLink(ApplicationError):
    field = "token"
    default_detail = "This password reset link is invalid, used or expired; ask for a new one."


class WrongPassword(ApplicationError):
    field = "old_password"
    default_detail = "Wrong password."


def _password_set(*, user: User, password: str, field: str) -> None:
    """Django's validators (AUTH_PASSWORD_VALIDATORS), reported on `field`, then the new
    hash; every API token of the account goes (a stolen one must not outlive it)."""
    try:
        validate_password(password, user=user)
    except ValidationError as exc:
        raise ApplicationError(errors={field: exc.messages}) from None
    user.set_password(password)
    user.save(update_fields=["password"])
    Token.objects.filter(user=user).delete()


def _user_for_link(uid: str) -> User | None:
    """The active account a mailed link's `uid` names, its row locked; None for a uid
    that is not one (forged, truncated, beyond the id column)."""
    try:
        pk = int(force_str(urlsafe_base64_decode(uid)))
    except (ValueError, TypeError, OverflowError):
        return None
    if not 0 < pk < 2**63:  # beyond the primary key column: no such account
        return None
    return User.objects.select_for_update().filter(pk=pk, is_active=True).first()


def password_reset_uid(user: User) -> str:
    return urlsafe_base64_encode(force_bytes(user.pk))


def password_reset_token(user: User) -> str:
    """Django's PasswordResetTokenGenerator: an HMAC of the password hash, last login and
    a timestamp, so it stops working once used (the hash changes) or after
    PASSWORD_RESET_TIMEOUT. Nothing is stored."""
    return default_token_generator.make_token(user)


@transaction.atomic
def password_reset_request(*, email: str) -> None:
    """Ask for a reset link for `email`. An unknown address does nothing, and the caller
    answers the same either way (no account enumeration). The mail is sent by the
    password_reset_requested receivers (notifications)."""
    with tracer.start_as_current_span("placemap.accounts.password_reset_request") as span:
        users = list(users_for_password_reset(email=email))
        span.set_attribute("placemap.password_reset.accounts", len(users))
        for user in users:
            password_reset_requested.send(sender=User, user=user)


@transaction.atomic
def password_reset_confirm(*, uid: str, token: str, new_password: str) -> User:
    """Set a new password with a reset link's `uid` and `token`. Raises InvalidResetLink
    (unknown, used or expired) or ApplicationError naming new_password (validators).
    The account row is locked first: two uses of one link cannot both succeed."""
    user = _user_for_link(uid)
    if user is None or not default_token_generator.check_token(user, token):
        raise InvalidResetLink()
    _password_set(user=user, password=new_password, field="new_password")
    return user


@transaction.atomic
def password_change(*, user: User, old_password: str, new_password: str) -> User:
    """A signed-in user's new password. Raises WrongPassword or ApplicationError naming
    new_password. Every API token of the account is revoked, the caller's too: with one
    token per account (DRF's authtoken) keeping it would keep a stolen one."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.check_password(old_password):
        raise WrongPassword()
    _password_set(user=user, password=new_password, field="new_password")
    return user


# --- Email verification and the profile (docs/accounts.md) -------------------------------


class InvalidVerificationLink(ApplicationError):
    field = "token"
    default_detail = "This verification link is invalid, used or expired; ask for a new one."


class VerificationNotNeeded(ConflictError):
    """Nothing to verify (409): the address is verified already, there is none, or
    verification is off (ACCOUNT_EMAIL_VERIFICATION=none)."""

    code = "verification_not_needed"
    default_detail = "Your email address is already verified."


def email_verification_token(user: User) -> str:
    """EmailVerificationTokenGenerator (accounts.tokens): dies once used, when the
    address changes, or after EMAIL_VERIFICATION_TIMEOUT. Nothing is stored."""
    return email_verification_token_generator.make_token(user)


@transaction.atomic
def email_verification_resend(*, user: User) -> None:
    """Mail a new verification link to the account's address. Raises
    VerificationNotNeeded when there is nothing to verify."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if email_verification_mode() == "none":
        raise VerificationNotNeeded("Email verification is turned off on this server.")
    if not user.email:
        raise VerificationNotNeeded("Your account has no email address; set one with PATCH /me.")
    if user.email_verified:
        raise VerificationNotNeeded()
    email_verification_requested.send(sender=User, user=user)


@transaction.atomic
def email_verify(*, uid: str, token: str) -> User:
    """Mark the address verified with a verification link's `uid` and `token`. Raises
    InvalidVerificationLink (unknown, used, expired, or made for an earlier address).
    The row is locked: two uses of one link cannot both succeed."""
    user = _user_for_link(uid)
    if user is None or not user.email:
        raise InvalidVerificationLink()
    if not email_verification_token_generator.check_token(user, token):
        raise InvalidVerificationLink()
    user.email_verified = True
    user.save(update_fields=["email_verified"])
    return user


@transaction.atomic
def user_update(*, user: User, email: str | None = None, language: str | None = None) -> User:
    """PATCH /me: the fields a person may change about themselves. A new address is
    unverified until its link is used, and (unless ACCOUNT_EMAIL_VERIFICATION is none)
    the link goes to the new address, and the old address (if any) hears of the change.
    Addresses are not unique (as at registration), so a change never tells whether
    another account uses it."""
    user = User.objects.select_for_update().get(pk=user.pk)
    old_email = user.email
    changed: list[str] = []
    if language is not None and language != user.language:
        user.language = language
        changed.append("language")
    new_address = email is not None and email.casefold() != user.email.casefold()
    if email is not None and email != user.email:
        # A change of letter case only is the same mailbox: it stays verified.
        user.email = email
        changed.append("email")
    if new_address:
        user.email_verified = False
        changed.append("email_verified")
    if changed:
        user.save(update_fields=changed)
    if new_address and email_verification_mode() != "none":
        email_verification_requested.send(sender=User, user=user)
    if new_address and old_email:
        email_changed.send(sender=User, user=user, old_email=old_email)
    return user


def email_mark_verified(*, user: User) -> None:
    """An operator vouches for the address (the demo accounts, the console)."""
    if not user.email_verified:
        user.email_verified = True
        user.save(update_fields=["email_verified"])


def moderators_group() -> Group:
    group, _ = Group.objects.get_or_create(name=settings.MODERATORS_GROUP)
    return group


def moderator_grant(*, user: User, staff: bool = False) -> None:
    """Join the moderators group; `staff` also opens the admin console to them."""
    user.groups.add(moderators_group())
    if staff and not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])


def moderator_revoke(*, user: User, staff: bool = False) -> None:
    """Leave the moderators group; `staff` also closes the admin console (never for
    superusers, whose access does not come from moderation)."""
    user.groups.remove(moderators_group())
    if staff and user.is_staff and not user.is_superuser:
        user.is_staff = False
        user.save(update_fields=["is_staff"])


# --- Suspensions (moderation.services.user_suspend calls these) ---------------------


class AlreadySuspended(ConflictError):
    """The account is suspended already (409): lift the suspension first."""


class NotSuspended(ConflictError):
    """The account is not suspended (409): nothing to lift."""

    default_detail = "This account is not suspended."


def suspension_describe(suspension: Suspension) -> str:
    """The sentence a suspended user reads in every refused write (403)."""
    until = (
        f"until {utc_timestamp(suspension.until)}"
        if suspension.until is not None
        else "until a moderator lifts it"
    )
    return f"Your account is suspended {until}. Reason: {suspension.reason}"


def suspension_create(
    *, user: User, reason: str, until=None, created_by: User | None
) -> Suspension:
    """Suspend `user` (inside the caller's transaction; the account row is locked so two
    moderators cannot both suspend). An expired suspension that nobody lifted is lifted
    now (by the clock: lifted_by stays empty). Raises AlreadySuspended."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    current = user_active_suspension(user)
    if current is not None:
        raise AlreadySuspended(
            f"{user.username} is already suspended"
            + (f" until {utc_timestamp(current.until)}" if current.until else "")
            + "; lift it first."
        )
    Suspension.objects.filter(user=user, lifted_at__isnull=True).update(lifted_at=timezone.now())
    return Suspension.objects.create(user=user, reason=reason, until=until, created_by=created_by)


def suspension_lift(*, user: User, lifted_by: User | None) -> Suspension:
    """Lift the suspension that applies to `user` now. Raises NotSuspended."""
    User.objects.select_for_update().filter(pk=user.pk).first()
    current = user_active_suspension(user)
    if current is None:
        raise NotSuspended(f"{user.username} is not suspended.")
    current.lifted_at = timezone.now()
    current.lifted_by = lifted_by
    current.save(update_fields=["lifted_at", "lifted_by"])
    return current


# --- GDPR (docs/gdpr.md) ------------------------------------------------------------------

EXPORT_FORMAT = "placemap-personal-data"
EXPORT_FORMAT_VERSION = 1
EXPORT_README = """Placemap: your personal data
============================

data.json   everything Placemap holds about you: profile, places (every status),
            photos (metadata), moderation decisions on your places, notifications.
photos/     the photos you uploaded, as stored (re-encoded, without metadata).
            data.json -> images[].file names each one; null if the file was not
            available (a photo still processing, or lost).
"""


@dataclass(frozen=True)
class ExportSummary:
    filename: str
    locations: int
    images: int
    photos_included: int


@dataclass(frozen=True)
class ErasureSummary:
    # The counts the sections' erase functions return (accounts.gdpr), summed.
    places_deleted: int = 0
    places_anonymized: int = 0
    images_deleted: int = 0


def export_filename(*, user: User) -> str:
    return f"placemap-export-{user.username}-{timezone.now():%Y%m%d}.zip"


def user_export(*, user: User, out: BinaryIO) -> ExportSummary:
    """Write the user's GDPR export to `out`: a ZIP of data.json and the files the
    sections attach (the photos). Raises ExportUnavailable if a section's store is down
    (then `out` holds a partial archive: the caller discards it)."""
    with tracer.start_as_current_span("placemap.accounts.export") as span:
        span.set_attribute("placemap.user.id", user.pk)
        data = user_personal_data(user=user)
        included = 0
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            archive.writestr("README.txt", EXPORT_README)

            def add(name: str, body: bytes) -> None:
                # Attached files are media, already compressed: storing them again
                # saves CPU, not bytes.
                archive.writestr(name, body, compress_type=zipfile.ZIP_STORED)

            try:
                for section in sections():
                    if section.attach_files is not None:
                        included += section.attach_files(user=user, rows=data[section.key], add=add)
            except DependencyUnavailable as exc:
                raise ExportUnavailable(retry_after=exc.retry_after) from exc
            document = {
                "format": EXPORT_FORMAT,
                "version": EXPORT_FORMAT_VERSION,
                "generated_at": timezone.now().isoformat(),
                **data,
            }
            archive.writestr(
                "data.json",
                json.dumps(document, cls=DjangoJSONEncoder, indent=2, ensure_ascii=False),
            )
        span.set_attribute("placemap.export.photos", included)
        return ExportSummary(
            filename=export_filename(user=user),
            locations=len(data.get("locations", [])),
            images=len(data.get("images", [])),
            photos_included=included,
        )


@transaction.atomic
def user_erase(*, user: User, delete_places: bool) -> ErasureSummary:
    """Erase an account and the personal data tied to it. With `delete_places` the
    user's places (and their photos) go too; otherwise they stay, without a submitter.
    Each app erases its own data (accounts.gdpr sections), in their order, then the
    account goes. Storage objects of deleted photos are removed after commit
    (media_store.signals). The caller checks that the user asked for it (password, or
    an operator)."""
    with tracer.start_as_current_span("placemap.accounts.erase") as span:
        span.set_attribute("placemap.user.id", user.pk)
        span.set_attribute("placemap.erase.delete_places", delete_places)
        # Lock the account: a place submitted while we erase must not escape the erasure.
        user = User.objects.select_for_update().get(pk=user.pk)
        counts: Counter[str] = Counter()
        for section in sections():
            if section.erase is not None:
                counts.update(section.erase(user=user, delete_places=delete_places))
        # The admin's change history names the account in object_repr.
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(User), object_id=str(user.pk)
        ).delete()
        Token.objects.filter(user=user).delete()
        # CASCADE: notifications, the user's own admin log entries, group memberships;
        # SET_NULL: moderation decisions they took, photos on kept places.
        user.delete()
        return ErasureSummary(**counts)


__all__ = [
    "AlreadySuspended",
    "ErasureSummary",
    "ExportSummary",
    "ExportUnavailable",
    "InvalidCredentials",
    "InvalidResetLink",
    "InvalidVerificationLink",
    "NotSuspended",
    "UsernameTaken",
    "ValidationError",
    "VerificationNotNeeded",
    "WrongPassword",
    "email_mark_verified",
    "email_verification_resend",
    "email_verification_token",
    "email_verify",
    "moderator_grant",
    "moderator_revoke",
    "password_change",
    "password_reset_confirm",
    "password_reset_request",
    "password_reset_token",
    "password_reset_uid",
    "suspension_create",
    "suspension_describe",
    "suspension_lift",
    "token_obtain",
    "token_revoke",
    "user_erase",
    "user_export",
    "user_register",
    "user_update",
]


# --- Trust tiers (moderation decides; docs/moderation.md "Trust tiers") ---------------


def user_trust_set(*, user: User, override: str, by: User | None) -> User:
    """Set `user`'s trust override (auto, granted, withdrawn) inside the caller's
    transaction; `by` None: the system (a spam rejection) or an operator."""
    user.trust_override = override
    user.trust_set_at = timezone.now()
    user.trust_set_by = by
    user.save(update_fields=["trust_override", "trust_set_at", "trust_set_by"])
    return user
