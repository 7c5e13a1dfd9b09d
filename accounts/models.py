from django.contrib.auth.models import AbstractUser
from django.db import models

from accounts.usernames import SKELETON_MAX_LENGTH, username_skeleton


class User(AbstractUser):
    """A Placemap account. Moderators are members of the `moderators` group, or staff."""

    email = models.EmailField("email address", blank=True)
    # Moderators opt in to the periodic digest of pending places.
    wants_moderation_digest = models.BooleanField(default=False)
    # accounts.usernames.username_skeleton(username): unique, so two accounts whose names
    # look alike cannot both exist, even when they sign up at the same instant. NULL only
    # for accounts that already collided before it existed (migration 0002).
    username_skeleton = models.CharField(
        max_length=SKELETON_MAX_LENGTH, unique=True, null=True, editable=False
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
