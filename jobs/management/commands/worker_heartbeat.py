"""The worker's own health check (compose healthcheck, monitoring).

manage.py worker_heartbeat [--hostname celery@HOST]

Exits 0 if the worker (any worker without --hostname) recorded a heartbeat within
WORKER_HEARTBEAT_MAX_AGE seconds, 1 otherwise (stale, never seen, or Redis unreachable).
"""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs import selectors


class Command(BaseCommand):
    help = "Exit 0 if a Celery worker recorded a recent heartbeat, 1 otherwise."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--hostname", help="Only this worker (celery@HOST).")

    def handle(self, *args, hostname: str | None = None, **options) -> None:
        who = hostname or "any worker"
        try:
            beat = selectors.worker_heartbeat_last(hostname=hostname)
        except Exception as exc:  # Redis away: the heartbeat cannot be read, nor written
            raise CommandError(f"Cannot read the heartbeat of {who}: {exc}") from exc
        if beat is None:
            raise CommandError(f"No heartbeat recorded for {who}.")
        if not beat.fresh:
            raise CommandError(
                f"Last heartbeat of {beat.hostname} is {beat.age_seconds:.0f}s old "
                f"(WORKER_HEARTBEAT_MAX_AGE={settings.WORKER_HEARTBEAT_MAX_AGE}s)."
            )
        self.stdout.write(f"{beat.hostname}: last heartbeat {beat.age_seconds:.1f}s ago")
