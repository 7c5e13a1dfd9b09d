"""Export places as GeoJSON or CSV: `manage.py export_locations --format csv -o places.csv`.

Streams from a server-side cursor (constant memory). Writing to a file goes through a
`.partial` file renamed at the end, so an interrupted export never looks complete.
"""

import os
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError
from tqdm import tqdm

from locations import exports
from locations.management.output import NoNewlineWriter
from locations.models import LocationStatus

ALL = "all"


def _statuses(values: list[str] | None) -> tuple[str, ...]:
    """--status approved --status pending, --status approved,pending, or --status all."""
    words = [
        word.strip() for value in (values or [LocationStatus.APPROVED]) for word in value.split(",")
    ]
    if ALL in words:
        return tuple(LocationStatus.values)
    unknown = [word for word in words if word not in LocationStatus.values]
    if unknown or not words:
        raise CommandError(
            f"Unknown --status {', '.join(unknown)!s}; use {', '.join(LocationStatus.values)} or all."
        )
    return tuple(dict.fromkeys(words))


class Command(BaseCommand):
    help = "Export places as a GeoJSON FeatureCollection or CSV (approved places by default)."

    def add_arguments(self, parser):
        parser.add_argument("--format", choices=exports.FORMATS, default=exports.FORMAT_GEOJSON)
        parser.add_argument(
            "--status",
            action="append",
            metavar="STATUS",
            help="approved (default), pending, rejected, a comma list, or all; repeatable.",
        )
        parser.add_argument("--output", "-o", help="File to write (default: standard output).")
        parser.add_argument("--chunk-size", type=int, default=None, help="Rows per fetch.")
        parser.add_argument("--no-progress", action="store_true", help="Hide the progress bar.")

    def handle(self, *args, **options):
        fmt = options["format"]
        filters = exports.ExportFilters(statuses=_statuses(options["status"]))
        if options["chunk_size"] is not None and options["chunk_size"] < 1:
            raise CommandError("--chunk-size must be at least 1.")
        output = options["output"]
        # The count is for the progress bar only: without one, no extra scan of the table.
        total = None if options["no_progress"] else exports.export_count(filters=filters)
        bar = tqdm(
            total=total,
            unit="rows",
            unit_scale=True,
            file=NoNewlineWriter(self.stderr),
            disable=options["no_progress"],
            desc=f"export {fmt}",
        )
        chunks = exports.export_chunks(filters=filters, fmt=fmt, chunk_size=options["chunk_size"])
        try:
            if output in (None, "-"):
                written = self._write(chunks, NoNewlineWriter(self.stdout), bar)
                self.stdout.flush()
            else:
                target = Path(output)
                partial = target.with_name(target.name + ".partial")
                try:
                    with partial.open("w", encoding="utf-8", newline="") as handle:
                        written = self._write(chunks, handle, bar)
                    os.replace(partial, target)
                finally:
                    partial.unlink(missing_ok=True)
        finally:
            chunks.close()
            bar.close()
        if output not in (None, "-"):
            self.stderr.write(f"Exported {written} places to {output}.")

    @staticmethod
    def _write(chunks, handle, bar) -> int:
        written = 0
        for text, rows in chunks:
            handle.write(text)
            if rows:
                bar.update(rows)
                written += rows
        return written
