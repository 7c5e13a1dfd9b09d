"""Moderation decisions on a user's places, in their GDPR export (accounts.gdpr).

No erasure: the log outlives the person. Decisions they took as a moderator keep
`moderator = NULL` (SET_NULL); decisions on their places stay by place id."""

from accounts.gdpr import GdprSection, export_timestamp, register_section
from moderation.models import Flag, ImageModerationLog, ModerationLog


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


def photo_decisions_export(*, user) -> list[dict]:
    # Decisions on the user's photos (docs/moderation.md "Photos"); the moderator is
    # left out, as for places.
    return [
        {
            "image_id": str(log.image_ref),
            "location_id": str(log.location_ref) if log.location_ref else None,
            "from_status": log.from_status,
            "to_status": log.to_status,
            "reason_code": log.reason_code,
            "reason": log.reason,
            "created_at": export_timestamp(log.created_at),
        }
        for log in ImageModerationLog.objects.filter(image__uploader=user).order_by(
            "created_at", "id"
        )
    ]


def flags_export(*, user) -> list[dict]:
    # The flags the user reported; who resolved them and the moderator's note are not
    # the reporter's data.
    return [
        {
            "id": flag.id,
            "target_type": flag.target_type,
            "location_id": str(flag.location_id) if flag.location_id else None,
            "image_id": str(flag.image_id) if flag.image_id else None,
            "reason": flag.reason,
            "comment": flag.comment,
            "status": flag.status,
            "created_at": export_timestamp(flag.created_at),
            "resolved_at": export_timestamp(flag.resolved_at),
        }
        for flag in Flag.objects.filter(reporter=user).order_by("created_at", "id")
    ]


def flags_erase(*, user, delete_places: bool) -> dict[str, int]:
    """The user's flags go (their comments are theirs). Open ones stop counting towards
    FLAG_HIDE_THRESHOLD; an object they already hid stays hidden until a moderator
    decides. Flags they resolved as a moderator keep resolved_by = NULL (SET_NULL)."""
    Flag.objects.filter(reporter=user).delete()
    return {}


register_section(GdprSection(key="photo_decisions", export=photo_decisions_export, order=31))
register_section(GdprSection(key="flags", export=flags_export, erase=flags_erase, order=32))
