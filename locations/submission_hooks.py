"""The registry of what runs on every submission and owner's edit of a place.

locations sits below moderation (docs/architecture.md), yet moderation must judge each
submission as it is made (the spam score, a trusted submitter's approval). moderation
registers its hook from its AppConfig.ready(); locations.services runs every hook inside
the write's transaction, after the place (or its pending revision) is written, so a
hook's decision commits with it or not at all.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from uuid import UUID

KIND_SUBMIT = "submit"
KIND_EDIT = "edit"


@dataclass(frozen=True)
class Submission:
    """A submission (`submit`) or an owner's edit (`edit`) just written. `content` is
    what was sent for review (the new place, the edited place, or the proposed
    revision); `raw_text` the text fields as the client sent them, before
    config.text.clean_text (invisible characters are a spam signal)."""

    kind: str
    location_id: UUID
    actor: object
    content: dict
    raw_text: Sequence[str] = field(default_factory=tuple)
    # The pending revision the edit created (an owner's edit of a public place).
    revision_id: UUID | None = None


SubmissionHook = Callable[[Submission], None]
_hooks: list[SubmissionHook] = []


def register_submission_hook(hook: SubmissionHook) -> None:
    if hook not in _hooks:
        _hooks.append(hook)


def run_submission_hooks(submission: Submission) -> None:
    for hook in _hooks:
        hook(submission)
