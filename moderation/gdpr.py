"""Moderation decisions on a user's places, in their GDPR export (accounts.gdpr).

No erasure: the log outlives the person. Decisions they took as a moderator keep
`moderator = NULL` (SET_NULL); decisions on their places stay by place id."""

from accounts.gdpr import GdprSection, export_timestamp, register_section
from moderation.models import ModerationLog


def moderation_decisions_export(*, user) -> list[dict]:
    # Decisions on the user's places; who decided is the moderator's data, not theirs.
    return [
        {
            "location_id": str(log.location_ref),
            "from_status": log.from_status,
            "to_status": log.to_status,
            "reason_code": log.reason_code,
            "reason": log.reason,
            # Versions and revisions: what was decided, on which version.
            "action": log.action,
            "revision_id": str(log.revision_id) if log.revision_id else None,
            "version": log.version,
            "created_at": export_timestamp(log.created_at),
        }
        for log in ModerationLog.objects.filter(location__submitter=user).order_by(
            "created_at", "id"
        )
    ]


register_section(
    GdprSection(key="moderation_decisions", export=moderation_decisions_export, order=30)
)
