from datetime import UTC, datetime, time

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime

from config.errors import ApplicationError
from moderation import services


def parse_until(value: str) -> datetime:
    """A date (the suspension ends at its start, UTC) or an ISO 8601 date-time (UTC
    when it names no offset)."""
    moment = parse_datetime(value)
    if moment is None:
        day = parse_date(value)
        if day is None:
            raise CommandError(f"--until: not a date or date-time: {value!r}.")
        moment = datetime.combine(day, time.min)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment, UTC)
    return moment


class Command(BaseCommand):
    help = (
        "Suspend an account: its writes are refused (403) and its pending places and "
        "photos are rejected (reason code spam). See docs/moderation.md."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--reason", required=True, help="Shown to the user on each refusal.")
        parser.add_argument(
            "--until", help="End date (YYYY-MM-DD) or date-time (ISO 8601); none: until lifted."
        )

    def handle(self, *args, username, reason, until, **options):
        ends = parse_until(until) if until else None
        try:
            result = services.user_suspend(
                username=username, moderator=None, reason=reason, until=ends
            )
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(
            self.style.SUCCESS(
                f"{username} is suspended "
                + (f"until {ends.isoformat()}" if ends else "until lifted")
                + f"; rejected {result.places_rejected} pending place(s), "
                f"{result.revisions_rejected} pending edit(s) and "
                f"{result.images_rejected} pending photo(s)."
            )
        )
