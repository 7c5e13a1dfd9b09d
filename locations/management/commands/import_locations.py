"""Import places from CSV or GeoJSON: `manage.py import_locations places.csv --dry-run`.

Every bad row is printed with its line (CSV) or feature (GeoJSON) number and reason; the
exit code is 1 when the import was aborted or the file could not be read, 0 otherwise
(bad rows skipped with --on-error skip are reported, not fatal).
"""

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from locations import imports
from locations.management.output import NoNewlineWriter
from locations.models import LocationStatus


class Command(BaseCommand):
    help = (
        "Validate every row of a CSV or GeoJSON file with the API's rules and upsert the "
        "valid ones on external_id, in one transaction."
    )

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
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, **options):
        path = Path(options["file"])
        if not path.is_file():
            raise CommandError(f"No such file: {path}")
        if options["batch_size"] is not None and options["batch_size"] < 1:
            raise CommandError("--batch-size must be at least 1.")
        bars: dict[str, tqdm] = {}
        out = NoNewlineWriter(self.stdout)

        def on_progress(phase: str, done: int, total: int | None) -> None:
            if phase not in bars:
                for bar in bars.values():
                    bar.close()
                bars[phase] = tqdm(
                    total=total,
                    unit="B" if phase == "read" else "rows",
                    unit_scale=True,
                    file=NoNewlineWriter(self.stderr),
                    disable=options["no_progress"],
                    desc="validate" if phase == "read" else "write",
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
            )
        except imports.ImportFileError as exc:
            raise CommandError(f"{path}: {exc} Nothing was imported.") from None
        except imports.ImportAborted as exc:
            raise CommandError(
                f"Aborted at {exc.report.bad_rows[-1]} Nothing was imported "
                "(use --on-error skip to import the valid rows)."
            ) from None
        finally:
            for bar in bars.values():
                bar.close()
        self.stdout.write(report.summary())
