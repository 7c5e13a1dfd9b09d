from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.contrib.auth.models import UserManager as DjangoUserManager
from django.db import models

from accounts.usernames import SKELETON_MAX_LENGTH, username_skeleton


class TrustOverride(models.TextChoices):
    """A moderator's hand on a user's trust (docs/moderation.md "Trust tiers"): `auto`
    follows the rule (approved places, no recent spam or inappropriate rejection)."""

    AUTO = "auto", "Automatic"
    GRANTED = "granted", "Granted by a moderator"
    WITHDRAWN = "withdrawn", "Withdrawn by a moderator"


class UserManager(DjangoUserManager):
    def create_superuser(self, username, email=None, password=None, **extra_fields):
        # The operator typed the address at the server (createsuperuser): nothing to
        # verify, and the moderation API would refuse an unverified superuser's writes.
        extra_fields.setdefault("email_verified", True)
        return super().create_superuser(username, email, password, **extra_fields)


class User(AbstractUser):
    """A Placemap account. Moderators are members of the `moderators` group, or staff."""

    objects = UserManager()

    email = models.EmailField("email address", blank=True)
    # Moderators opt in to the periodic digest of pending places.
    wants_moderation_digest = models.BooleanField(default=False)
    # accounts.usernames.username_skeleton(username): unique, so two accounts whose names
    # look alike cannot both exist, even when they sign up at the same instant. NULL only
    # for accounts that already collided before it existed (migration 0002).
    username_skeleton = models.CharField(
        max_length=SKELETON_MAX_LENGTH, unique=True, null=True, editable=False
    )
    # Trust tiers: moderation.selectors.user_is_trusted reads it with the rule; written
    # by accounts.services.user_trust_set only.
    trust_override = models.CharField(
        max_length=16,
        choices=TrustOverride.choices,
        default=TrustOverride.AUTO,
        db_default=TrustOverride.AUTO,
    )
    trust_set_at = models.DateTimeField(null=True, blank=True)
    trust_set_by = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Whether the person proved they read `email` (docs/accounts.md "Email verification");
    # set by accounts.services.email_verify, cleared when the address changes. Accounts
    # older than the rule were marked verified by migration 0005.
    email_verified = models.BooleanField(default=False, db_default=False)
    # The language of the mails the account receives (notifications renders them in it).
    language = models.CharField(
        max_length=8,
        choices=settings.LANGUAGES,
        default="en",
        db_default="en",
    )

    def save(self, *args, **kwargs):
        # Derived from username on every write path (API, admin, createsuperuser), which
        # is why it lives here and not in a service; collisions are the service's to
        # explain (accounts.services.user_register).
        # An account that collided before the column existed stays NULL (migration 0002).
        if self._state.adding or self.username_skeleton is not None:
            self.username_skeleton = username_skeleton(self.username)
        update_fields = kwargs.get("update_fields")
        if update_fields is not None and "username" in update_fields:
            kwargs["update_fields"] = {*update_fields, "username_skeleton"}
        super().save(*args, **kwargs)


class Suspension(models.Model):
    """A moderator's suspension of an account: while it applies (not lifted, `until`
    unset or in the future) the user's write requests are refused
    (accounts.permissions.NotSuspended). Kept after it ends, as the record of who
    suspended whom, when and why. Written by moderation.services (which also rejects
    the user's pending content) through accounts.services."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="suspensions")
    reason = models.TextField(max_length=2000)
    # None: until a moderator lifts it. An expired suspension needs no job: it is
    # judged against the clock each time it is read.
    until = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)
    lifted_at = models.DateTimeField(null=True, blank=True)
    lifted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "-created_at"], name="suspension_user_created")]
        constraints = [
            # At most one suspension not lifted per user (an expired one still counts
            # until lifted, so "suspend again" after expiry lifts it first: the service).
            models.UniqueConstraint(
                fields=["user"],
                condition=models.Q(lifted_at__isnull=True),
                name="suspension_one_unlifted_per_user",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} suspended {self.created_at:%Y-%m-%d}"
