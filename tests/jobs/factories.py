import factory
from django.utils import timezone

from jobs.models import OutboxMessage


class OutboxMessageFactory(factory.django.DjangoModelFactory):
    """An outbox row; `age` (a timedelta) backdates created_at, which the model sets on
    insert, as the relay and the purge see rows written that long ago."""

    class Meta:
        model = OutboxMessage
        skip_postgeneration_save = True

    task_name = "x"

    @factory.post_generation
    def age(obj, create, extracted, **kwargs):
        if create and extracted is not None:
            obj.created_at = timezone.now() - extracted
            OutboxMessage.objects.filter(pk=obj.pk).update(created_at=obj.created_at)
