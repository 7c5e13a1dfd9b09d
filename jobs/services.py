"""The one way Placemap hands work to Celery.

Callers inside a transaction call `enqueue(task, ...)`; the task is sent only once the
transaction commits, so a worker never sees rows that are not there yet.
"""

from celery import Task
from django.db import transaction


def enqueue(task: Task, *, args: tuple = (), kwargs: dict | None = None) -> None:
    """Send `task` after the current transaction commits (at once outside one)."""
    transaction.on_commit(lambda: task.apply_async(args=args, kwargs=kwargs or {}))
