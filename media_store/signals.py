"""Storage objects follow their rows: a deleted Image (directly, or by CASCADE from its
place) has its objects removed once the deleting transaction commits. A signal is the
only hook that sees cascaded deletes; it only schedules, the work is in services."""

from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver

from media_store.models import Image


@receiver(post_delete, sender=Image, dispatch_uid="media_store.image_objects_after_delete")
def remove_objects_after_commit(sender, instance: Image, **kwargs):
    from media_store.services import image_objects_delete

    image_id, keys = instance.id, instance.storage_keys
    # robust: the deletion has committed; a failure here must not turn the response
    # into a 500 (the service defers to a task, the orphan sweep catches the rest).
    transaction.on_commit(lambda: image_objects_delete(image_id=image_id, keys=keys), robust=True)
