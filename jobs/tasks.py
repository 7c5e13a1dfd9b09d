from datetime import timedelta

from celery import shared_task
from django.conf import settings

from jobs import services


# The relay runs every few seconds from beat; a missed run is simply the next one, so it
# never retries or dead-letters itself (that would pile up copies while Redis is away).
@shared_task(autoretry_for=(), ignore_result=True)
def relay_outbox() -> int:
    return services.outbox_relay()


@shared_task(ignore_result=True)
def purge_sent_outbox() -> int:
    return services.outbox_purge_sent(
        older_than=timedelta(days=settings.JOBS_OUTBOX_RETENTION_DAYS)
    )
