"""Moderation decisions, one module per kind (docs/moderation.md):

- base: statuses, allowed moves, the errors and the validation every decision shares;
- places: approve, reject, take down; an approved place's pending revision; revert;
  location_decide, the one step every place decision takes (a moderator's, a flag's,
  a suspension's, the spam check's);
- photos: a photo's own decisions, and those it follows with its place;
- flags, suspension, merge, trust: the flows of those names.

Every decision runs in one transaction that locks what it decides, writes its log row,
records the notifications and schedules the live-feed events for after the commit. The
API (moderation.api.views) and the console (moderation.admin) both call these functions,
so both have the same effects. Places are read and written only through locations'
services and selectors. Errors are config.errors.ApplicationError subclasses: the
problem+json handler answers them, no view maps them.

Callers import from this package (`from moderation import services`); the modules are
its layout, not its interface.
"""

from moderation.services.base import (
    ALLOWED_TRANSITIONS,
    APPROVED,
    EVENT_APPROVED,
    EVENT_REJECTED,
    EVENT_REVISION_APPROVED,
    EVENT_REVISION_REJECTED,
    HIDDEN,
    MERGED,
    PENDING,
    REASON_TRUSTED,
    REJECTED,
    SPAM_REASON_CODE,
    IllegalTransition,
    InvalidDecision,
    ModerationError,
    PlaceNotFound,
    StaleVersion,
    decision_validate,
)
from moderation.services.flags import (
    FLAG_TARGET_IMAGE,
    FLAG_TARGET_LOCATION,
    DuplicateFlag,
    FlagAlreadyResolved,
    FlagNotFound,
    FlagTargetNotFound,
    TakeDown,
    flag_create,
    flag_resolve,
)
from moderation.services.merge import (
    MergeConflict,
    location_merge,
)
from moderation.services.photos import (
    IMAGE_APPROVED,
    IMAGE_HIDDEN,
    IMAGE_PENDING,
    IMAGE_REJECTED,
    IMAGE_TRANSITIONS,
    ImageIllegalTransition,
    ImageNotFound,
    image_decision_validate,
    image_transition,
    images_follow_place,
)
from moderation.services.places import (
    location_approve,
    location_reject,
    location_revert_to,
    location_transition,
    moderation_digest_content,
)
from moderation.services.suspension import (
    SUSPENSION_REASON_CODE,
    SelfSuspension,
    SuspensionResult,
    UserNotFound,
    user_suspend,
    user_unsuspend,
)
from moderation.services.trust import (
    TrustUserNotFound,
    image_attached_review,
    submission_review,
    user_trust_grant,
    user_trust_withdraw,
)

__all__ = [
    "ALLOWED_TRANSITIONS",
    "APPROVED",
    "EVENT_APPROVED",
    "EVENT_REJECTED",
    "EVENT_REVISION_APPROVED",
    "EVENT_REVISION_REJECTED",
    "FLAG_TARGET_IMAGE",
    "FLAG_TARGET_LOCATION",
    "HIDDEN",
    "IMAGE_APPROVED",
    "IMAGE_HIDDEN",
    "IMAGE_PENDING",
    "IMAGE_REJECTED",
    "IMAGE_TRANSITIONS",
    "MERGED",
    "PENDING",
    "REASON_TRUSTED",
    "REJECTED",
    "SPAM_REASON_CODE",
    "SUSPENSION_REASON_CODE",
    "DuplicateFlag",
    "FlagAlreadyResolved",
    "FlagNotFound",
    "FlagTargetNotFound",
    "IllegalTransition",
    "ImageIllegalTransition",
    "ImageNotFound",
    "InvalidDecision",
    "MergeConflict",
    "ModerationError",
    "PlaceNotFound",
    "SelfSuspension",
    "StaleVersion",
    "SuspensionResult",
    "TakeDown",
    "TrustUserNotFound",
    "UserNotFound",
    "decision_validate",
    "flag_create",
    "flag_resolve",
    "image_attached_review",
    "image_decision_validate",
    "image_transition",
    "images_follow_place",
    "location_approve",
    "location_merge",
    "location_reject",
    "location_revert_to",
    "location_transition",
    "moderation_digest_content",
    "submission_review",
    "user_suspend",
    "user_trust_grant",
    "user_trust_withdraw",
    "user_unsuspend",
]
