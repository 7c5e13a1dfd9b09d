from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jobs import services
from jobs.models import DeadLetter, OutboxMessage


class ReadOnlyAdmin(admin.ModelAdmin):
    # Rows are written by the job machinery only; operators act through the actions.
    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False


@admin.register(DeadLetter)
class DeadLetterAdmin(ReadOnlyAdmin):
    list_display = (
        "id",
        "task_name",
        "exception_type",
        "attempts",
        "first_failed_at",
        "last_failed_at",
        "requeued_at",
    )
    list_filter = ("task_name", ("requeued_at", admin.EmptyFieldListFilter))
    search_fields = ("task_name", "task_id", "exception_message")
    date_hierarchy = "last_failed_at"
    readonly_fields = [field.name for field in DeadLetter._meta.fields]
    actions = ("requeue_selected", "purge_selected")

    def has_requeue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jobs.requeue_deadletter")

    @admin.action(
        description="Requeue selected dead letters (run the tasks again)", permissions=["requeue"]
    )
    def requeue_selected(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        count = 0
        for dead_letter in queryset.order_by("id"):
            services.dead_letter_requeue(dead_letter=dead_letter)
            count += 1
        self.message_user(request, f"Requeued {count} task(s).", messages.SUCCESS)

    @admin.action(description="Purge selected dead letters", permissions=["delete"])
    def purge_selected(self, request: HttpRequest, queryset: QuerySet[DeadLetter]) -> None:
        deleted = services.dead_letters_purge(
            include_unresolved=True, ids=list(queryset.values_list("pk", flat=True))
        )
        self.message_user(request, f"Purged {deleted} dead letter(s).", messages.SUCCESS)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ReadOnlyAdmin):
    list_display = ("id", "task_name", "task_id", "created_at", "sent_at", "send_attempts")
    list_filter = ("task_name", ("sent_at", admin.EmptyFieldListFilter))
    search_fields = ("task_name", "task_id")
    readonly_fields = [field.name for field in OutboxMessage._meta.fields]
    actions = ("relay_now",)

    def has_requeue_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("jobs.requeue_deadletter")

    @admin.action(description="Send unsent outbox messages now", permissions=["requeue"])
    def relay_now(self, request: HttpRequest, queryset: QuerySet[OutboxMessage]) -> None:
        sent = sum(
            services.outbox_message_send(message_id=pk)
            for pk in queryset.filter(sent_at__isnull=True).values_list("pk", flat=True)
        )
        self.message_user(request, f"Sent {sent} message(s).", messages.SUCCESS)
