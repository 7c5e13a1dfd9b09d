"""Trust tiers and spam (docs/moderation.md "Trust tiers", "Spam score")."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction

from accounts.models import TrustOverride
from accounts.selectors import user_by_username, user_is_moderator
from accounts.services import user_trust_set
from config.errors import NotFoundError
from locations.selectors import (
    location_pending_revision,
)
from locations.services import (
    location_lock,
    location_revision_discard,
    location_spam_set,
    location_status_set,
)
from media_store.services import (
    image_moderation_set,
)
from moderation.constants import (
    ACTION_REVISION_REJECTED,
)
from moderation.events import (
    LOCATION_AUTO_REJECTED_EVENT,
)
from moderation.models import ModerationLog
from moderation.services.base import (
    APPROVED,
    PENDING,
    REASON_TRUSTED,
    REJECTED,
    SPAM_REASON_CODE,
    ModerationError,
    _withdraw_trust_on_spam,
)
from moderation.services.photos import IMAGE_APPROVED, IMAGE_PENDING, _image_log
from moderation.services.places import location_decide
from notifications.services import notify

if TYPE_CHECKING:
    from accounts.models import User
    from locations.models import Location


# =========================================================================================
# Trust tiers and spam (docs/moderation.md "Trust tiers", "Spam score"): every submission
# and owner's edit is scored (submission_review, registered with locations); a score at
# or above SPAM_REJECT_SCORE rejects it as spam, else a trusted submitter's new place is
# approved at once. Both are system decisions (moderator None), logged.
# =========================================================================================


def submission_review(submission) -> None:
    """The submission hook (locations.submission_hooks): score it, store the score, and
    reject it as spam or approve a trusted submitter's new place. Runs inside the
    submission's transaction."""
    from moderation.spam import spam_score
    from moderation.trust import user_is_trusted

    score, signals = spam_score(submission)
    location_spam_set(location_id=submission.location_id, score=score, signals=signals)
    location = location_lock(location_id=submission.location_id)
    if score >= settings.SPAM_REJECT_SCORE:
        _reject_as_spam(location=location, submission=submission, score=score, signals=signals)
        return
    if (
        submission.kind == "submit"
        and location.status == PENDING
        and user_is_trusted(submission.actor)
    ):
        location_decide(
            location=location,
            to_status=APPROVED,
            moderator=None,
            reason_code=REASON_TRUSTED,
            reason="Approved automatically: the submitter is trusted.",
            notify_submitter=False,
        )


def _reject_as_spam(*, location: Location, submission, score: int, signals: list[dict]) -> None:
    names = ", ".join(signal["name"] for signal in signals)
    reason = f"Rejected automatically: spam score {score} ({names})."
    if submission.revision_id is not None:
        revision = location_pending_revision(location_id=location.id)
        if revision is None or revision.id != submission.revision_id:
            return
        location_revision_discard(
            location=location,
            revision=revision,
            moderator=None,
            reason_code=SPAM_REASON_CODE,
            reason=reason,
        )
        ModerationLog.objects.create(
            location=location,
            location_ref=location.id,
            moderator=None,
            from_status=location.status,
            to_status=location.status,
            reason_code=SPAM_REASON_CODE,
            reason=reason,
            action=ACTION_REVISION_REJECTED,
            revision=revision,
            version=location.version,
        )
    elif location.status == PENDING:
        # Its photos stay pending (not public: the place is not): a moderator approving
        # the place approves them with it, so the reversal is complete.
        location_status_set(location=location, status=REJECTED)
        log = ModerationLog.objects.create(
            location=location,
            location_ref=location.id,
            moderator=None,
            from_status=PENDING,
            to_status=REJECTED,
            reason_code=SPAM_REASON_CODE,
            reason=reason,
            version=location.version,
        )
        _withdraw_trust_on_spam(location=location, log=log)
    else:
        return
    if location.submitter_id is not None:
        # Neutral words: the submitter is not called a spammer by a machine.
        notify(
            recipient=location.submitter,
            event=LOCATION_AUTO_REJECTED_EVENT,
            context={
                "location_id": str(location.id),
                "location_name": location.name,
                "edit": submission.revision_id is not None,
            },
            dedupe_key=f"auto-{location.id}-v{location.version}",
        )


def image_attached_review(*, image) -> None:
    """The upload hook (media_store.targets): a trusted uploader's photo on an approved
    place is approved at once (a photo on a pending place waits to follow its place)."""
    from moderation.trust import user_is_trusted

    if image.moderation_status != IMAGE_PENDING or not user_is_trusted(image.uploader):
        return
    location = location_lock(location_id=image.location_id)
    if location.status != APPROVED:
        return
    image_moderation_set(image=image, status=IMAGE_APPROVED)
    _image_log(
        image=image,
        from_status=IMAGE_PENDING,
        moderator=None,
        reason_code=REASON_TRUSTED,
        reason="Approved automatically: the uploader is trusted.",
    )


class TrustUserNotFound(ModerationError, NotFoundError):
    default_detail = "No such user."


def user_trust_grant(*, username: str, moderator: User | None) -> User:
    """A moderator trusts `username` by hand: their new places and photos are approved
    at once until withdrawn (or a spam rejection). Raises TrustUserNotFound."""
    return _trust_set(username=username, moderator=moderator, override=TrustOverride.GRANTED)


def user_trust_withdraw(*, username: str, moderator: User | None) -> User:
    """A moderator withdraws `username`'s trust: nothing of theirs is approved at once,
    whatever the rule says, until granted again. Raises TrustUserNotFound."""
    return _trust_set(username=username, moderator=moderator, override=TrustOverride.WITHDRAWN)


def _trust_set(*, username: str, moderator: User | None, override: str) -> User:
    if moderator is not None and not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators change trust.")
    with transaction.atomic():
        try:
            user = user_by_username(username=username)
        except ObjectDoesNotExist:
            raise TrustUserNotFound() from None
        return user_trust_set(user=user, override=override, by=moderator)
