"""Trust tiers (docs/moderation.md "Trust tiers"): who has new places and photos
approved at once. Read here; a moderator's grant or withdrawal is written by
moderation.services through accounts.services.user_trust_set."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from accounts.models import TrustOverride
from accounts.selectors import user_trust_override
from config.timestamps import utc_timestamp
from locations.constants import LocationStatus
from locations.selectors import locations_count_of_submitter
from moderation.models import ImageModerationLog, ModerationLog

if TYPE_CHECKING:
    from accounts.models import User

# Rejections that cost a user their trust for TRUST_WINDOW_DAYS.
UNTRUSTING_REASON_CODES = ("spam", "inappropriate")


def user_bad_rejections_count(*, user: User) -> int:
    """How many of `user`'s places and photos were rejected for spam or inappropriate
    content in the last TRUST_WINDOW_DAYS days (by a moderator or automatically)."""
    since = timezone.now() - timedelta(days=settings.TRUST_WINDOW_DAYS)
    bad = Q(
        to_status=LocationStatus.REJECTED,
        reason_code__in=UNTRUSTING_REASON_CODES,
        created_at__gte=since,
    )
    places = ModerationLog.objects.filter(bad, location__submitter=user).count()
    photos = ImageModerationLog.objects.filter(bad, image__uploader=user).count()
    return places + photos


def user_is_trusted(user) -> bool:
    """Whether `user`'s new places and photos are approved at once: a moderator's grant,
    or (unless a moderator withdrew it) TRUST_AUTO_APPROVE_AFTER approved places and no
    spam or inappropriate rejection within TRUST_WINDOW_DAYS."""
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    override = user_trust_override(user)
    if override == TrustOverride.GRANTED:
        return True
    if override == TrustOverride.WITHDRAWN:
        return False
    approved = locations_count_of_submitter(user=user, status=LocationStatus.APPROVED)
    if approved < settings.TRUST_AUTO_APPROVE_AFTER:
        return False
    return user_bad_rejections_count(user=user) == 0


def user_trust_state(user) -> dict:
    """The trust API's answer: `{username, trusted, override, set_at}`."""
    return {
        "username": user.username,
        "trusted": user_is_trusted(user),
        "override": user.trust_override,
        "set_at": utc_timestamp(user.trust_set_at),
    }
