from datetime import timedelta

from anymail.exceptions import AnymailAPIError
from celery import shared_task
from django.conf import settings

from jobs.task_base import TRANSIENT_ERRORS, PlacemapTask
from notifications import services


class DeliverNotificationTask(PlacemapTask):
    def on_dead_letter(self, *, args: list, kwargs: dict) -> None:
        # The row says "failed" beside the dead letter; requeueing the dead letter still
        # delivers it (only "sent" stops a delivery).
        notification_id = args[0] if args else kwargs["notification_id"]
        services.notification_mark_failed(notification_id=notification_id)


# A provider's API error may be an outage (5xx) or a refusal (4xx); anymail does not
# tell them apart by type, so both are retried within the attempt budget.
@shared_task(
    base=DeliverNotificationTask,
    ignore_result=True,
    autoretry_for=(*TRANSIENT_ERRORS, AnymailAPIError),
)
def deliver_notification(notification_id: int) -> bool:
    return services.notification_deliver(notification_id=notification_id)


# The name (stored in outbox rows and the beat schedule) predates the digest registry:
# it sends every registered digest, the moderators' one among them.
@shared_task(ignore_result=True)
def send_moderation_digest() -> int:
    return services.digests_send()


# Periodic (beat, every 5 minutes): a failed run is simply redone by the next one.
@shared_task(ignore_result=True, autoretry_for=())
def redrive_pending_notifications() -> int:
    return services.notifications_redrive_pending(
        older_than=timedelta(seconds=settings.JOBS_REDRIVE_AFTER_SECONDS)
    )
