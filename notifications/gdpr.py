"""What Placemap sent (or will send) a user, in their GDPR export (accounts.gdpr).

No erasure: notifications go with the account (CASCADE)."""

from accounts.gdpr import GdprSection, export_timestamp, register_section
from notifications.models import Notification


def notifications_export(*, user) -> list[dict]:
    return [
        {
            "event": note.event,
            "channel": note.channel,
            "status": note.status,
            "payload": note.payload,
            "created_at": export_timestamp(note.created_at),
            "sent_at": export_timestamp(note.sent_at),
        }
        for note in Notification.objects.filter(recipient=user).order_by("created_at", "id")
    ]


register_section(GdprSection(key="notifications", export=notifications_export, order=40))
