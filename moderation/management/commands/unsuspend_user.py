from django.core.management.base import BaseCommand, CommandError

from config.errors import ApplicationError
from moderation import services


class Command(BaseCommand):
    help = (
        "Lift an account's suspension. What it rejected stays rejected until a moderator "
        "approves it (docs/moderation.md)."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")

    def handle(self, *args, username, **options):
        try:
            services.user_unsuspend(username=username, moderator=None)
        except ApplicationError as exc:
            raise CommandError(exc.detail) from None
        self.stdout.write(self.style.SUCCESS(f"{username} is no longer suspended."))
