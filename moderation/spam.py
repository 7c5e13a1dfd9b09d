"""The spam score of a submission or an owner's edit (docs/moderation.md "Spam score").

Each checker (settings.SPAM_CHECKERS, dotted paths of SpamChecker subclasses) returns the
signals that fired; the score is the sum of their weights. The built-in checker reads
only the submission and our own database; an external service (Akismet, OSM-style
scores) would be one more checker, called by nobody unless listed in the setting.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

from django.conf import settings
from django.utils import timezone
from django.utils.module_loading import import_string

from config.text import clean_text
from locations.selectors import locations_count_of_submitter, locations_with_text_count
from locations.submission_hooks import Submission
from moderation.trust import user_bad_rejections_count


@dataclass(frozen=True)
class Signal:
    """One thing that fired: its name (stable, documented), weight and what it saw."""

    name: str
    weight: int
    detail: str = ""

    def as_dict(self) -> dict:
        return {"name": self.name, "weight": self.weight, "detail": self.detail}


class SpamChecker:
    """Scores a submission. `max_score` is the most its signals can add up to: the sum
    over the checkers is the highest possible score (SPAM_REJECT_SCORE above it turns
    automatic rejection off)."""

    max_score: int = 0

    def check(self, submission: Submission) -> list[Signal]:
        raise NotImplementedError


# The built-in signals and their weights (docs/moderation.md lists them).
WEIGHTS = {
    "link": 4,
    "phone": 2,
    "blocked_word": 5,
    "shouting": 2,
    "repeated_characters": 1,
    "invisible_characters": 2,
    "identical_text": 3,
    "new_account": 1,
    "submission_rate": 2,
    "reputation": 3,
}
_LINK = re.compile(r"https?://|www\.|\b[a-z0-9-]+\.(?:com|net|org|info|biz|ru|xyz|top|io)\b", re.I)
# Seven or more digits, optionally separated by spaces, dots, dashes or brackets.
_PHONE = re.compile(r"(?:\+?\d[\s().-]*){7,}")
_REPEATED = re.compile(r"(.)\1{4,}")
# Shouting: at least this many letters, this share of them capitals.
SHOUTING_MIN_LETTERS = 8
SHOUTING_SHARE = 0.7
# The same text on this many of the submitter's other places within IDENTICAL_TEXT_DAYS.
IDENTICAL_TEXT_OTHERS = 2
IDENTICAL_TEXT_DAYS = 7
IDENTICAL_TEXT_MIN_LENGTH = 20
# An account younger than this is new.
NEW_ACCOUNT_HOURS = 24
# More places than this in the last hour is a burst.
SUBMISSION_RATE_PER_HOUR = 5


class BuiltinSpamChecker(SpamChecker):
    """The documented signals: text patterns, the configured blocked words, repetition
    across places, the account's age, rate and reputation."""

    max_score = sum(WEIGHTS.values())

    def check(self, submission: Submission) -> list[Signal]:
        content = submission.content
        texts = [content.get(f) or "" for f in ("name", "description", "address")]
        text = "\n".join(t for t in texts if t)
        signals: list[Signal] = []

        def fire(name: str, detail: str = "") -> None:
            signals.append(Signal(name, WEIGHTS[name], detail[:100]))

        if match := _LINK.search(text):
            fire("link", match.group(0))
        if match := _PHONE.search(text):
            fire("phone", match.group(0).strip())
        words = set(re.findall(r"\w+", text.lower()))
        blocked = sorted(words & set(settings.SPAM_BLOCKED_WORDS))
        if blocked:
            fire("blocked_word", ", ".join(blocked))
        for field_text in texts:  # a shouted name counts, even above a calm description
            letters = [ch for ch in field_text if ch.isalpha()]
            capitals = sum(1 for ch in letters if ch.isupper())
            if len(letters) >= SHOUTING_MIN_LETTERS and capitals / len(letters) >= SHOUTING_SHARE:
                fire("shouting", f"{capitals}/{len(letters)} capitals")
                break
        if match := _REPEATED.search(text):
            fire("repeated_characters", match.group(0))
        removed = sum(
            len(raw) - len(clean_text(raw, multiline=True)) for raw in submission.raw_text
        )
        if removed > 0:
            fire("invisible_characters", f"{removed} removed")
        self._account_signals(submission, content, fire)
        return signals

    def _account_signals(self, submission: Submission, content: dict, fire) -> None:
        user = submission.actor
        if user is None or not getattr(user, "is_authenticated", False):
            return
        now = timezone.now()
        since = now - timedelta(days=IDENTICAL_TEXT_DAYS)
        for field in ("description", "name"):
            value = (content.get(field) or "").strip()
            if len(value) < IDENTICAL_TEXT_MIN_LENGTH and field == "description":
                continue
            others = locations_with_text_count(
                user=user, field=field, text=value, exclude_id=submission.location_id, since=since
            )
            if others >= IDENTICAL_TEXT_OTHERS:
                fire("identical_text", f"{field} on {others} other places")
                break
        if user.date_joined >= now - timedelta(hours=NEW_ACCOUNT_HOURS):
            fire("new_account")
        recent = locations_count_of_submitter(user=user, since=now - timedelta(hours=1))
        if recent > SUBMISSION_RATE_PER_HOUR:
            fire("submission_rate", f"{recent} places in the last hour")
        bad = user_bad_rejections_count(user=user)
        if bad:
            fire("reputation", f"{bad} rejections for spam or inappropriate content")


@cache
def _checkers(paths: tuple[str, ...]) -> tuple[SpamChecker, ...]:
    return tuple(import_string(path)() for path in paths)


def spam_checkers() -> tuple[SpamChecker, ...]:
    return _checkers(tuple(settings.SPAM_CHECKERS))


def spam_max_score() -> int:
    """The highest score the configured checkers can give."""
    return sum(checker.max_score for checker in spam_checkers())


def spam_score(submission: Submission) -> tuple[int, list[dict]]:
    """The score of a submission and the signals that fired, as stored on the place."""
    signals = [signal for checker in spam_checkers() for signal in checker.check(submission)]
    return sum(signal.weight for signal in signals), [signal.as_dict() for signal in signals]
