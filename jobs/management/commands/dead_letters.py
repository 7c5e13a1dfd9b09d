"""Operate the dead-letter store: tasks that failed for good.

manage.py dead_letters list [--all] [--task NAME]
manage.py dead_letters show ID
manage.py dead_letters requeue ID [ID ...] | --all
manage.py dead_letters purge [--all]
"""

import json

from django.core.management.base import BaseCommand, CommandError, CommandParser

from jobs import services
from jobs.models import DeadLetter


class Command(BaseCommand):
    help = "List, show, requeue or purge dead-lettered Celery tasks."

    def add_arguments(self, parser: CommandParser) -> None:
        sub = parser.add_subparsers(dest="action", required=True)
        list_parser = sub.add_parser("list", help="Dead letters, newest failure first.")
        list_parser.add_argument(
            "--all", action="store_true", help="Include those already requeued."
        )
        list_parser.add_argument("--task", help="Only this task name.")
        show = sub.add_parser("show", help="One dead letter with its arguments and traceback.")
        show.add_argument("id", type=int)
        requeue = sub.add_parser("requeue", help="Run dead-lettered tasks again.")
        requeue.add_argument("ids", nargs="*", type=int)
        requeue.add_argument(
            "--all", action="store_true", help="Every dead letter not requeued yet."
        )
        purge = sub.add_parser(
            "purge", help="Delete dead letters already requeued (--all: every one)."
        )
        purge.add_argument("--all", action="store_true", help="Also delete those never requeued.")

    def handle(self, *args, action: str, **options) -> None:
        if action == "list":
            self._list(include_requeued=options["all"], task_name=options.get("task"))
        elif action == "show":
            self._show(self._get(options["id"]))
        elif action == "requeue":
            self._requeue(ids=options["ids"], every=options["all"])
        elif action == "purge":
            deleted = services.dead_letters_purge(include_unresolved=options["all"])
            self.stdout.write(self.style.SUCCESS(f"Purged {deleted} dead letter(s)."))

    def _get(self, pk: int) -> DeadLetter:
        try:
            return DeadLetter.objects.get(pk=pk)
        except DeadLetter.DoesNotExist:
            raise CommandError(f"No dead letter with id {pk}.") from None

    def _list(self, *, include_requeued: bool, task_name: str | None) -> None:
        queryset = DeadLetter.objects.all()
        if not include_requeued:
            queryset = queryset.filter(requeued_at__isnull=True)
        if task_name:
            queryset = queryset.filter(task_name=task_name)
        rows = list(queryset)
        if not rows:
            self.stdout.write("No dead letters.")
            return
        self.stdout.write(f"{'ID':>6}  {'LAST FAILURE':<20}  {'ATT':>3}  {'TASK':<45}  EXCEPTION")
        for row in rows:
            requeued = "  (requeued)" if row.requeued_at else ""
            self.stdout.write(
                f"{row.pk:>6}  {row.last_failed_at:%Y-%m-%d %H:%M:%S}  {row.attempts:>3}  "
                f"{row.task_name:<45}  {row.exception_type.rsplit('.', 1)[-1]}: "
                f"{row.exception_message[:60]}{requeued}"
            )

    def _show(self, row: DeadLetter) -> None:
        lines = [
            f"Dead letter {row.pk}",
            f"Task:          {row.task_name} [{row.task_id}]",
            f"Arguments:     {json.dumps(row.args)}",
            f"Keyword args:  {json.dumps(row.kwargs)}",
            f"Attempts:      {row.attempts}",
            f"First failure: {row.first_failed_at.isoformat()}",
            f"Last failure:  {row.last_failed_at.isoformat()}",
            f"Exception:     {row.exception_type}: {row.exception_message}",
            f"Requeued:      {row.requeued_at.isoformat() if row.requeued_at else 'no'}"
            + (f" as task {row.requeued_task_id}" if row.requeued_task_id else ""),
            "",
            row.traceback,
        ]
        self.stdout.write("\n".join(lines))

    def _requeue(self, *, ids: list[int], every: bool) -> None:
        if every == bool(ids):
            raise CommandError("Give dead letter ids or --all (not both).")
        if every:
            count = services.dead_letters_requeue_all()
            self.stdout.write(self.style.SUCCESS(f"Requeued {count} task(s)."))
            return
        for pk in ids:
            row = self._get(pk)
            message = services.dead_letter_requeue(dead_letter=row)
            self.stdout.write(
                self.style.SUCCESS(f"Requeued dead letter {pk} as task {message.task_id}.")
            )
