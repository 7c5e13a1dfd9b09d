from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = "Add a user to the moderators group (or remove them with --revoke)."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument("--revoke", action="store_true", help="Remove from the group.")
        parser.add_argument(
            "--staff",
            action="store_true",
            help="Also set (or with --revoke, clear) the staff flag the admin console needs.",
        )

    def handle(self, *args, username, revoke, staff, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        if revoke:
            services.moderator_revoke(user=user, staff=staff)
            self.stdout.write(self.style.SUCCESS(f"{username} is no longer a moderator."))
        else:
            services.moderator_grant(user=user, staff=staff)
            self.stdout.write(self.style.SUCCESS(f"{username} is now a moderator."))
