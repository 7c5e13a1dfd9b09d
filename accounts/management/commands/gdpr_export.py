import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from accounts import services
from accounts.models import User
from config.errors import DependencyUnavailable


class Command(BaseCommand):
    help = (
        "Write everything Placemap holds about a user (GDPR access request) to a ZIP: "
        "data.json and their photos, the same archive as GET /api/v1/me/export."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--output",
            help="ZIP file to write (default: placemap-export-USERNAME-YYYYMMDD.zip here).",
        )

    def handle(self, *args, username, output, **options):
        try:
            user = User.objects.get(username=username)
        except User.DoesNotExist:
            raise CommandError(f"No user named {username!r}.") from None
        target = Path(output or services.export_filename(user=user))
        # Written beside the target, then renamed: an interrupted export never leaves a
        # truncated archive under the final name.
        partial = target.with_name(target.name + ".partial")
        try:
            with partial.open("wb") as out:
                summary = services.user_export(user=user, out=out)
            os.replace(partial, target)
        except DependencyUnavailable as exc:
            partial.unlink(missing_ok=True)
            # Names the store's own error (ExportUnavailable wraps it), as operators read it.
            cause = exc.__cause__ or exc
            raise CommandError(f"Storage is unavailable ({cause}); try again later.") from exc
        except BaseException:
            partial.unlink(missing_ok=True)
            raise
        self.stdout.write(
            self.style.SUCCESS(
                f"Wrote {target}: {summary.locations} places, {summary.images} photos "
                f"({summary.photos_included} files)."
            )
        )
