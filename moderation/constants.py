from django.utils.translation import gettext_noop

# The labels stay English strings here (API, admin, stored payloads); gettext_noop marks
# them for `makemessages` (moderation/locale), and the decision mails translate them
# when they render (moderation.notification_events.reason_label).
REASON_CODES: dict[str, str] = {
    "spam": gettext_noop("Spam"),
    "duplicate": gettext_noop("Duplicate of an existing place"),
    "inaccurate": gettext_noop("Inaccurate or misplaced"),
    "inappropriate": gettext_noop("Inappropriate content"),
    "privacy": gettext_noop("Privacy concern"),
    "other": gettext_noop("Other"),
    # A system decision: hidden because FLAG_HIDE_THRESHOLD users flagged it.
    "flagged": gettext_noop("Flagged by several users"),
    # A system decision: approved at once, its submitter is trusted (TRUST_AUTO_APPROVE_AFTER).
    "trusted": gettext_noop("Trusted submitter"),
}
REASON_CODE_CHOICES = list(REASON_CODES.items())
# ModerationLog.reason's max_length.
REASON_MAX_LENGTH = 2000

# --- Flags (docs/moderation.md "Flags") -----------------------------------------------
FLAG_REASONS: dict[str, str] = {
    "closed": "Closed or no longer exists",
    "wrong_location": "Wrong location",
    "duplicate": "Duplicate",
    "spam": "Spam",
    "inappropriate": "Inappropriate",
    "privacy": "Privacy concern",
    "other": "Other",
}
FLAG_REASON_CHOICES = list(FLAG_REASONS.items())
FLAG_COMMENT_MAX_LENGTH = 2000
# ModerationLog.action: what a decision was about (docs/moderation.md, "Versions and
# revisions").
ACTION_STATUS = "status"  # the place's status changed (approve, reject, take down)
ACTION_REVISION_APPROVED = "revision_approved"  # a pending revision was published
ACTION_REVISION_REJECTED = "revision_rejected"  # a pending revision was discarded
ACTION_REVERT = "revert"  # the content of an earlier revision restored as a new version
ACTION_MERGE = "merge"  # the place was merged into another (its duplicate)
LOG_ACTION_CHOICES = [
    (ACTION_STATUS, "Status decision"),
    (ACTION_REVISION_APPROVED, "Revision approved"),
    (ACTION_REVISION_REJECTED, "Revision rejected"),
    (ACTION_REVERT, "Reverted"),
    (ACTION_MERGE, "Merged"),
]
