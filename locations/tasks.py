"""Periodic upkeep of the places app."""

from celery import shared_task

from locations import import_uploads
from locations.api import idempotency


@shared_task(ignore_result=True)
def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()


@shared_task(ignore_result=True)
def purge_stale_import_uploads() -> int:
    """Admin import uploads nobody confirmed or cancelled (locations/import_uploads.py)."""
    return import_uploads.import_uploads_purge_stale()
