from django.contrib.auth.models import AbstractUser
from django.db import models


class User(AbstractUser):
    """A Placemap account. Moderators are members of the `moderators` group, or staff."""

    email = models.EmailField("email address", blank=True)
    # Moderators opt in to the periodic digest of pending places.
    wants_moderation_digest = models.BooleanField(default=False)
