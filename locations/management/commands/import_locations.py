"""Import places from CSV or GeoJSON: `manage.py import_locations places.csv --dry-run`.

Every bad row is printed with its line (CSV) or feature (GeoJSON) number and reason.
Exit codes, so a pipeline can tell the outcomes apart (docs/import-export.md):
0 every row valid; 1 some rows refused (a dry run, a real run that imported the valid
ones, or an --on-error abort that imported nothing); 2 usage or file error (no such
file, unreadable file, bad option), nothing imported.
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from accounts.models import User
from accounts.selectors import user_by_username
from locations import imports
from locations.management.output import NoNewlineWriter
from locations.models import LocationStatus

EXIT_OK = 0
EXIT_ROWS_REFUSED = 1
EXIT_USAGE_OR_FILE_ERROR = 2
# The phases locations_import reports progress in (its on_progress callback).
PROGRESS_LABELS = {"read": "validate", "write": "write", "index": "rebuild indexes"}
PROGRESS_UNITS = {"read": "B", "write": "rows", "index": "indexes"}


class Command(BaseCommand):
    help = (
        "Validate every row of a CSV or GeoJSON file with the API's rules and upsert the "
        "valid ones on external_id, in one transaction. Exit status: 0 every row valid; "
        "1 some rows refused (also in a dry run and with --on-error abort); 2 usage or "
        "file error, nothing imported."
    )

    def create_parser(self, prog_name, subcommand, **kwargs):
        parser = super().create_parser(prog_name, subcommand, **kwargs)
        # argparse's own usage errors already exit 2; say it in --help too.
        parser.epilog = "Exit status: 0 all rows valid, 1 some rows refused, 2 usage/file error."
        return parser

    def add_arguments(self, parser):
        parser.add_argument("file", help="CSV or GeoJSON FeatureCollection (UTF-8).")
        parser.add_argument("--format", choices=imports.FORMATS, default=imports.FORMAT_AUTO)
        parser.add_argument(
            "--dry-run", action="store_true", help="Validate and count; write nothing."
        )
        parser.add_argument(
            "--status",
            choices=imports.IMPORT_STATUSES,
            default=LocationStatus.PENDING,
            help="Status of newly created places (existing places keep theirs).",
        )
        parser.add_argument(
            "--on-error",
            choices=(imports.ON_ERROR_SKIP, imports.ON_ERROR_ABORT),
            default=imports.ON_ERROR_SKIP,
            help="skip: import the valid rows; abort: import nothing at the first bad row.",
        )
        parser.add_argument(
            "--batch-size",
            type=int,
            default=None,
            help=f"Rows per upsert statement (default {settings.IMPORT_BATCH_SIZE}).",
        )
        parser.add_argument(
            "--user",
            help="Username recorded as the importer in the places' audit trail (history).",
        )
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}", returncode=EXIT_USAGE_OR_FILE_ERROR)
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError(
                "--batch-size must be at least 1.", returncode=EXIT_USAGE_OR_FILE_ERROR
            )
        user_id = None
        if options["user"] is not None:
            try:
                user_id = user_by_username(username=options["user"]).pk
            except User.DoesNotExist:
                raise CommandError(
                    f"No such user: {options['user']}", returncode=EXIT_USAGE_OR_FILE_ERROR
                ) from None
        bars: dict[str, tqdm] = {}
        out = NoNewlineWriter(self.stdout)

        def on_progress(phase: str, done: int, total: int | None) -> None:
            if phase not in bars:
                for bar in bars.values():
                    bar.close()
                bars[phase] = tqdm(
                    total=total,
                    unit=PROGRESS_UNITS[phase],
                    unit_scale=phase != "index",
                    file=NoNewlineWriter(self.stderr),
                    disable=options["no_progress"],
                    desc=PROGRESS_LABELS[phase],
                )
            bar = bars[phase]
            bar.update(done - bar.n)

        def on_bad_row(bad: imports.BadRow) -> None:
            # tqdm.write keeps the bar intact on a terminal.
            tqdm.write(f"bad row: {bad}", file=out)

        try:
            report = imports.locations_import(
                path=path,
                fmt=options["format"],
                status=options["status"],
                dry_run=options["dry_run"],
                on_error=options["on_error"],
                batch_size=options["batch_size"],
                on_progress=on_progress,
                on_bad_row=on_bad_row,
                user_id=user_id,
            )
        except imports.ImportFileError as exc:
            raise CommandError(
                f"{path}: {exc} Nothing was imported.", returncode=EXIT_USAGE_OR_FILE_ERROR
            ) from None
        except imports.ImportAborted as exc:
            raise CommandError(
                f"Aborted at {exc.report.bad_rows[-1]} Nothing was imported "
                "(use --on-error skip to import the valid rows).",
                returncode=EXIT_ROWS_REFUSED,
            ) from None
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(report.summary())
        if report.bad_row_count:
            # After the summary: the valid rows are in (or, in a dry run, would be), but
            # a pipeline must still see that some rows were refused.
            raise CommandError(
                f"{report.bad_row_count} bad row(s) refused.", returncode=EXIT_ROWS_REFUSED
            )
