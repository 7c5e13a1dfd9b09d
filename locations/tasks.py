"""Periodic upkeep of the places app."""

from celery import shared_task

from locations.api import idempotency


@shared_task(ignore_result=True)
def purge_idempotency_keys() -> int:
    return idempotency.purge_expired()
