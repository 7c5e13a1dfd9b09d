"""Duplicates and merge (docs/moderation.md "Duplicates and merge")."""

from __future__ import annotations

from typing import TYPE_CHECKING
from uuid import UUID

from django.core.exceptions import ObjectDoesNotExist, PermissionDenied
from django.db import transaction
from opentelemetry import trace

from accounts.selectors import user_is_moderator
from config.errors import ConflictError
from locations.services import (
    location_lock,
    location_merge_into,
)
from moderation.constants import (
    ACTION_MERGE,
)
from moderation.events import (
    LOCATION_MERGED_EVENT,
)
from moderation.models import ModerationLog
from moderation.services.base import MERGED, ModerationError, _place_not_found_type
from notifications.services import notify

if TYPE_CHECKING:
    from accounts.models import User

tracer = trace.get_tracer(__name__)


# =========================================================================================
# Duplicates and merge (docs/moderation.md "Duplicates and merge").
# =========================================================================================


class MergeConflict(ModerationError, ConflictError):
    """A merge into itself, into a merged place, or of a merged place (409)."""


def location_merge(
    *, location_id: UUID | str, into_id: UUID | str, moderator: User
) -> ModerationLog:
    """Merge a place into another (its duplicate) on behalf of `moderator`: photos move
    to the target, the place becomes `merged` (off every public read, its detail 301s
    to the target), its log and revisions stay, its submitter is told, open maps hear
    location.removed for it and location.updated for the target. Logged (action
    `merge`, reason code `duplicate`). Raises PlaceNotFound (either place),
    MergeConflict or PermissionDenied; on any of them nothing is written."""
    if not user_is_moderator(moderator):
        raise PermissionDenied("Only moderators merge places.")
    if str(location_id) == str(into_id):
        raise MergeConflict("A place cannot be merged into itself.")
    with tracer.start_as_current_span("placemap.moderation.merge"), transaction.atomic():
        # Both rows locked in id order: two merges of the same pair cannot deadlock.
        locked = {}
        for each in sorted((str(location_id), str(into_id))):
            try:
                locked[each] = location_lock(location_id=each)
            except ObjectDoesNotExist as exc:
                raise _place_not_found_type(type(exc))() from exc  # type: ignore[arg-type]
        location, target = locked[str(location_id)], locked[str(into_id)]
        if location.status == MERGED:
            raise MergeConflict(f"This place was merged into {location.merged_into_id} already.")
        if target.status == MERGED:
            raise MergeConflict(
                f"The place {target.id} was itself merged into {target.merged_into_id}; "
                "merge into that one."
            )
        from_status = location.status
        location_merge_into(location=location, target=target, actor=moderator)
        log = ModerationLog.objects.create(
            location=location,
            location_ref=location.id,
            moderator=moderator,
            from_status=from_status,
            to_status=MERGED,
            reason_code="duplicate",
            reason=f"Merged into {target.id} ({target.name}).",
            action=ACTION_MERGE,
            version=location.version,
        )
        if location.submitter_id is not None:
            notify(
                recipient=location.submitter,
                event=LOCATION_MERGED_EVENT,
                context={
                    "location_id": str(location.id),
                    "location_name": location.name,
                    "into_id": str(target.id),
                    "into_name": target.name,
                },
                dedupe_key=f"{log.id}",
            )
    return log
