import sys

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User


class Command(BaseCommand):
    help = (
        "Erase a user's account and personal data (GDPR erasure request). Their places "
        "stay on the map without a submitter, or are deleted with --delete-places."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--delete-places",
            action="store_true",
            help="Delete the user's places and their photos instead of keeping them anonymized.",
        )
        parser.add_argument(
            "--yes", action="store_true", help="Do not ask for confirmation (scripts)."
        )

    def handle(self, *args, username, delete_places, yes, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        places = "DELETED" if delete_places else "kept, anonymized"
        if not yes:
            if not sys.stdin.isatty():
                raise CommandError("Refusing to erase without confirmation: pass --yes.")
            self.stdout.write(
                f"This erases {username} ({user.email or 'no email'}) for good; "
                f"their places will be {places}."
            )
            if input("Type the username to confirm: ").strip() != username:
                raise CommandError("Not confirmed; nothing was erased.")
        summary = services.user_erase(user=user, delete_places=delete_places)
        self.stdout.write(
            self.style.SUCCESS(
                f"Erased {username}: {summary.places_deleted} places deleted, "
                f"{summary.places_anonymized} kept anonymized, "
                f"{summary.images_deleted} photos deleted."
            )
        )
