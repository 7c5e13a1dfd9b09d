import uuid

from django.db import models


class OutboxMessage(models.Model):
    """A Celery task waiting to reach the broker. Written in the caller's transaction, so
    it exists exactly when the work it describes was committed; sent after commit and,
    if the broker was unreachable then, by the periodic relay."""

    # The Celery task id, fixed at enqueue time: a relayed resend keeps the same id.
    task_id = models.UUIDField(default=uuid.uuid4, unique=True, editable=False)
    task_name = models.CharField(max_length=200)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    send_attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True, default="")

    class Meta:
        ordering = ["id"]
        indexes = [
            # The relay only ever scans unsent rows, oldest first.
            models.Index(
                fields=["id"], name="outbox_unsent", condition=models.Q(sent_at__isnull=True)
            ),
            models.Index(fields=["sent_at"], name="outbox_sent_at"),
        ]

    def __str__(self) -> str:
        state = "sent" if self.sent_at else "unsent"
        return f"{self.task_name}[{self.task_id}] ({state})"


class DeadLetter(models.Model):
    """A task that failed for good: after its last retry, or at once for an error not
    worth retrying. Operators inspect, requeue or purge it (admin, `dead_letters`)."""

    task_id = models.CharField(max_length=64, db_index=True)
    task_name = models.CharField(max_length=200, db_index=True)
    args = models.JSONField(default=list, blank=True)
    kwargs = models.JSONField(default=dict, blank=True)
    exception_type = models.CharField(max_length=200)
    exception_message = models.TextField(blank=True, default="")
    traceback = models.TextField(blank=True, default="")
    attempts = models.PositiveIntegerField()
    first_failed_at = models.DateTimeField()
    last_failed_at = models.DateTimeField()
    requeued_at = models.DateTimeField(null=True, blank=True)
    # The outbox message of the requeue, to follow it.
    requeued_task_id = models.UUIDField(null=True, blank=True)

    class Meta:
        ordering = ["-last_failed_at", "-id"]
        # Running a task again is an operator's decision, not every admin viewer's.
        permissions = [("requeue_deadletter", "Can requeue dead-lettered tasks")]
        indexes = [
            models.Index(
                fields=["last_failed_at"],
                name="deadletter_unresolved",
                condition=models.Q(requeued_at__isnull=True),
            )
        ]

    def __str__(self) -> str:
        return f"{self.task_name}[{self.task_id}]: {self.exception_type}"
