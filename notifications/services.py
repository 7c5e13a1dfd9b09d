from notifications.models import Notification


def notify(*, recipient, event: str, context: dict, dedupe_key: str) -> Notification | None:
    """Record that `recipient` must hear about `event`. Call inside the transaction that
    made the event happen. The same dedupe_key never yields a second notification."""
    notification, created = Notification.objects.get_or_create(
        idempotency_key=f"{event}:{dedupe_key}:email",
        defaults={"recipient": recipient, "event": event, "channel": "email", "payload": context},
    )
    return notification if created else None
