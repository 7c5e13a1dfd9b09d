"""Where a photo may be attached on upload, without media_store knowing the apps above it.

POST /images/upload may name a `location_id`; whether the uploader may attach a photo
there is the places app's business. That app registers a check from its
AppConfig.ready() (locations/image_targets.py), and image_upload asks it through
check_attach_target. With nothing registered every target is refused.
"""

from __future__ import annotations

from collections.abc import Callable
from uuid import UUID

from config.errors import ApplicationError

NOT_ATTACHABLE_DETAIL = "No place of yours has this id."


class ImageTargetInvalid(ApplicationError):
    """The target names nothing the uploader may attach to (unknown, or someone else's):
    one message for both, so the answer does not reveal which targets exist."""

    field = "location_id"
    default_detail = NOT_ATTACHABLE_DETAIL


# check(*, uploader, target_id, lock) -> None, raising ImageTargetInvalid.
AttachTargetCheck = Callable[..., None]

_checks: list[AttachTargetCheck] = []


def register_attach_target(check: AttachTargetCheck) -> None:
    """Install the check (idempotent: an app's ready() may run more than once in tests).
    `check(*, uploader, target_id, lock)` raises ImageTargetInvalid; with lock=True it
    keeps the target locked until the caller's transaction ends, so the target cannot
    be deleted between the check and the image row's insert."""
    if check not in _checks:
        _checks.append(check)


def check_attach_target(*, uploader, target_id: UUID, lock: bool) -> None:
    if not _checks:
        raise ImageTargetInvalid()
    for check in _checks:
        check(uploader=uploader, target_id=target_id, lock=lock)


# --- After an upload attached to a target (docs/moderation.md "Trust tiers") ----------

# hook(*, image) -> None, inside the upload's transaction, the image row written.
AttachedHook = Callable[..., None]
_attached_hooks: list[AttachedHook] = []


def register_attached_hook(hook: AttachedHook) -> None:
    """Install a hook run on every photo uploaded onto a target (moderation approves a
    trusted uploader's photo at once). Idempotent."""
    if hook not in _attached_hooks:
        _attached_hooks.append(hook)


def run_attached_hooks(*, image) -> None:
    for hook in _attached_hooks:
        hook(image=image)
