"""Writes of places: submit, edit, delete, and their versions. Decisions of moderators
live in moderation.services, which calls the status, revision and revert functions
here: locations owns the rows, their versions, their audit rows and their feed events."""

from collections.abc import Sequence
from typing import Any
from uuid import UUID

from django.contrib.gis.geos import Point
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from opentelemetry import trace

from accounts.selectors import user_is_moderator
from config.errors import ApplicationError, ConflictError
from locations import events, feed
from locations.categories import check_place_category
from locations.constants import RevisionStatus
from locations.models import CONTENT_FIELDS, Location, LocationRevision, LocationStatus
from locations.revisions import content_changes, content_of, same_content, same_value
from locations.selectors import location_pending_revision, location_public_feature
from locations.submission_hooks import KIND_EDIT, KIND_SUBMIT, Submission, run_submission_hooks
from media_store.services import ImagesNotAttachable, images_attach, images_move
from notifications.services import notify

tracer = trace.get_tracer(__name__)

# Statuses whose content a moderator approved: an owner may only propose changes to it.
PUBLISHED_CONTENT = (LocationStatus.APPROVED, LocationStatus.HIDDEN)


class PlaceMerged(ConflictError):
    """The place was merged into another: it is no longer edited (409)."""

    code = "place_merged"


def location_create(
    *,
    submitter,
    name: str,
    category: str,
    latitude: float,
    longitude: float,
    description: str = "",
    address: str = "",
    image_ids: Sequence[UUID] = (),
    raw_text: Sequence[str] = (),
) -> Location:
    """Submit a place for review, attaching the submitter's own unattached photos.

    The place, the photos' attachment, the submission notification and the submission
    hooks' decisions (spam score, trusted approval: moderation) commit together or
    not at all; `raw_text` is the text as sent (before clean_text). Raises ValidationError({"image_ids": ...}) for a photo that is unknown,
    not the submitter's, failed, or already attached (including by a concurrent request).
    """
    # An active category only (a deactivated one stays on old places): read from the
    # table, not the process's copy, so a deactivation takes effect at once.
    check_place_category(category, fresh=True)
    with tracer.start_as_current_span("placemap.locations.create") as span, transaction.atomic():
        image_ids = list(image_ids)
        location = Location(
            submitter=submitter,
            name=name.strip(),
            description=description.strip(),
            category=category,
            address=address.strip(),
            point=Point(longitude, latitude, srid=4326),
            status=LocationStatus.PENDING,
        )
        location._history_user = submitter  # type: ignore[attr-defined]
        location._change_reason = SOURCE_SUBMIT  # type: ignore[attr-defined]
        location.save(force_insert=True)
        LocationRevision.objects.create(
            location=location,
            **content_of(location),
            base_version=0,
            version=location.version,
            status=RevisionStatus.APPLIED,
            author=submitter,
            source=SOURCE_SUBMIT,
            changes=content_changes(None, content_of(location)),
        )
        try:
            # Locks the photos (a concurrent submission naming one waits, then finds it
            # attached); a refusal rolls the place back with them.
            images_attach(image_ids=image_ids, uploader=submitter, location_id=location.id)
        except ImagesNotAttachable as exc:
            raise ValidationError({"image_ids": [exc.detail]}) from None
        span.set_attribute("placemap.location.id", str(location.id))
        span.set_attribute("placemap.location.images", len(image_ids))
        if submitter is not None:
            notify(
                recipient=submitter,
                event=events.LOCATION_SUBMITTED,
                context={"location_id": str(location.id), "location_name": location.name},
                dedupe_key=str(location.id),
            )
        run_submission_hooks(
            Submission(
                kind=KIND_SUBMIT,
                location_id=location.id,
                actor=submitter,
                content=content_of(location),
                raw_text=tuple(raw_text),
            )
        )
        location.refresh_from_db()
    return location


def location_update(
    *,
    location: Location,
    actor,
    name: str | None = None,
    description: str | None = None,
    category: str | None = None,
    address: str | None = None,
    latitude: float | None = None,
    longitude: float | None = None,
    raw_text: Sequence[str] = (),
) -> Location:
    """Edit a place (its owner or a moderator; the caller checks who may).

    - The owner of an approved (or hidden) place proposes: the edit becomes (or replaces) the place's
      pending revision, decided by a moderator (moderation.services); the public keeps
      the approved content meanwhile. An edit that brings the proposal back to the
      approved content withdraws it.
    - The owner of a pending place changes it in place; of a rejected one, changes it
      and sends it back to review (pending).
    - A moderator's edit applies directly, in any status.
    Every content change, and every proposal made or replaced, increments `version`;
    each writes an audit row (simple-history). The live map hears `location.updated`
    when a public place changes.
    """
    if (latitude is None) != (longitude is None):
        raise ValidationError({"latitude": ["Send latitude and longitude together."]})
    sent: dict[str, Any] = {
        field: value.strip()
        for field, value in (
            ("name", name),
            ("description", description),
            ("category", category),
            ("address", address),
        )
        if value is not None
    }
    if latitude is not None and longitude is not None:
        sent["point"] = Point(longitude, latitude, srid=4326)
    with tracer.start_as_current_span("placemap.locations.update") as span, transaction.atomic():
        # Lock: a moderator's approval racing this edit must see it or be seen by it.
        location = Location.objects.select_for_update().get(pk=location.pk)
        span.set_attribute("placemap.location.id", str(location.id))
        if location.status == LocationStatus.MERGED:
            raise PlaceMerged(
                f"This place was merged into {location.merged_into_id}; edit that one instead."
            )
        if "category" in sent:
            # Keeping a deactivated category is fine; moving into one is not.
            check_place_category(sent["category"], current=location.category, fresh=True)
        moderator = user_is_moderator(actor)
        # A hidden place (flagged, docs/moderation.md "Flags") was approved and is public
        # again once a moderator dismisses its flags: its owner's edit is a proposal too.
        if location.status in PUBLISHED_CONTENT and not moderator:
            revision = _revision_propose(location=location, author=actor, sent=sent)
            if revision is not None:
                run_submission_hooks(
                    Submission(
                        kind=KIND_EDIT,
                        location_id=location.id,
                        actor=actor,
                        content=content_of(revision),
                        raw_text=tuple(raw_text),
                        revision_id=revision.id,
                    )
                )
                location.refresh_from_db()
            return location
        current = content_of(location)
        proposed = {**current, **sent}
        changed = [f for f in CONTENT_FIELDS if not same_value(f, current[f], proposed[f])]
        span.set_attribute("placemap.location.changed", ",".join(changed))
        if not changed:
            return location
        extra: list[str] = []
        if location.status == LocationStatus.REJECTED and not moderator:
            location.status = LocationStatus.PENDING
            location.approved_at = None
            extra = ["status", "approved_at"]
        _content_apply(
            location=location,
            content=proposed,
            actor=actor,
            source=SOURCE_MODERATOR_EDIT if moderator else SOURCE_EDIT,
            extra_fields=extra,
        )
        if not moderator:  # a moderator's own edit is not scored
            run_submission_hooks(
                Submission(
                    kind=KIND_EDIT,
                    location_id=location.id,
                    actor=actor,
                    content=content_of(location),
                    raw_text=tuple(raw_text),
                )
            )
            location.refresh_from_db()
    return location


# --- Versions and revisions ----------------------------------------------------------

# LocationRevision.source: what applied a version.
SOURCE_SUBMIT = "submit"
SOURCE_EDIT = "edit"
SOURCE_MODERATOR_EDIT = "moderator_edit"
SOURCE_IMPORT = "import"
SOURCE_REVERT = "revert"


def _content_apply(
    *,
    location: Location,
    content: dict[str, Any],
    actor,
    source: str,
    extra_fields: Sequence[str] = (),
    revision: LocationRevision | None = None,
    reverted_from: LocationRevision | None = None,
) -> LocationRevision:
    """Write `content` to the locked place as its next version and record it: the
    revision (a new applied one, or `revision`, a proposal being approved, updated by
    the caller's status) with its frozen before/after, the audit row, and for a public
    place the live map's `location.updated` (with `previous` when it moved)."""
    before = content_of(location)
    old_position = (location.point.x, location.point.y)
    for field, value in content.items():
        setattr(location, field, value)
    location.version += 1
    location._history_user = actor  # type: ignore[attr-defined]
    location._change_reason = source  # type: ignore[attr-defined]
    location.save(update_fields=[*CONTENT_FIELDS, "version", "updated_at", *extra_fields])
    changes = content_changes(before, content_of(location))
    if revision is None:
        revision = LocationRevision.objects.create(
            location=location,
            **content_of(location),
            base_version=location.version - 1,
            version=location.version,
            status=RevisionStatus.APPLIED,
            author=actor if getattr(actor, "is_authenticated", False) else None,
            source=source,
            reverted_from=reverted_from,
            changes=changes,
        )
    else:
        revision.version = location.version
        revision.changes = changes
    if location.status == LocationStatus.APPROVED:
        moved = "point" in changes
        feed.publish_on_commit(
            event=events.LOCATION_UPDATED,
            location_id=location.id,
            lon=location.point.x,
            lat=location.point.y,
            feature=location_public_feature(location_id=location.id),
            # Maps showing the old position must hear about a move too.
            previous=old_position if moved else None,
        )
    return revision


def _version_bump(*, location: Location, actor, reason: str) -> None:
    """A new version without a content change (a proposal made, replaced or withdrawn):
    the version a moderator saw no longer describes what they would decide on."""
    location.version += 1
    location._history_user = actor  # type: ignore[attr-defined]
    location._change_reason = reason  # type: ignore[attr-defined]
    # updated_at stays: the public content did not change.
    location.save(update_fields=["version"])


def _revision_propose(
    *, location: Location, author, sent: dict[str, Any]
) -> LocationRevision | None:
    """The owner's edit of an approved place: create or replace its pending revision.
    The sent fields overlay the pending proposal (or the approved content if none)."""
    pending = location_pending_revision(location_id=location.id)
    base = content_of(pending) if pending is not None else content_of(location)
    proposed = {**base, **sent}
    if same_content(base, proposed):
        return None  # nothing new: the same proposal, or the approved content unchanged
    if pending is not None:
        _revision_close(
            location=location, revision=pending, status=RevisionStatus.SUPERSEDED, actor=None
        )
    if same_content(content_of(location), proposed):
        # Back to the approved content: the proposal is withdrawn, nothing to review.
        _version_bump(location=location, actor=author, reason="revision withdrawn")
        return None
    base_version = location.version
    _version_bump(location=location, actor=author, reason="revision proposed")
    return LocationRevision.objects.create(
        location=location,
        **proposed,
        base_version=base_version,
        version=location.version,
        status=RevisionStatus.PENDING,
        author=author,
        source=SOURCE_EDIT,
    )


def _revision_close(
    *,
    location: Location,
    revision: LocationRevision,
    status: str,
    actor,
    reason_code: str = "",
    reason: str = "",
) -> None:
    """End a pending revision without publishing it, its diff against the place frozen."""
    revision.status = status
    revision.changes = content_changes(content_of(location), content_of(revision))
    revision.decided_by = actor
    revision.decided_at = timezone.now()
    revision.reason_code = reason_code
    revision.reason = reason
    revision.save(
        update_fields=["status", "changes", "decided_by", "decided_at", "reason_code", "reason"]
    )


def location_revision_publish(
    *, location: Location, revision: LocationRevision, moderator
) -> LocationRevision:
    """Approve the locked place's pending revision: its content becomes the place's
    next version (open maps hear `location.updated`). The caller (moderation) checks
    who may and logs the decision."""
    if revision.location_id != location.id or revision.status != RevisionStatus.PENDING:
        raise ValueError("Only the place's own pending revision can be published.")
    _content_apply(
        location=location,
        content=content_of(revision),
        actor=moderator,
        source="revision approved",
        revision=revision,
    )
    revision.status = RevisionStatus.APPROVED
    revision.decided_by = moderator
    revision.decided_at = timezone.now()
    revision.save(update_fields=["status", "version", "changes", "decided_by", "decided_at"])
    return revision


def location_revision_discard(
    *, location: Location, revision: LocationRevision, moderator, reason_code: str, reason: str
) -> LocationRevision:
    """Reject the locked place's pending revision: the place stays as it is."""
    if revision.location_id != location.id or revision.status != RevisionStatus.PENDING:
        raise ValueError("Only the place's own pending revision can be rejected.")
    _revision_close(
        location=location,
        revision=revision,
        status=RevisionStatus.REJECTED,
        actor=moderator,
        reason_code=reason_code,
        reason=reason,
    )
    return revision


class RevisionNotRevertible(ApplicationError):
    """The revision asked for is not a version of this place that can be restored."""

    field = "revision"


def location_revert(*, location: Location, revision_id: UUID | str, moderator) -> LocationRevision:
    """Restore the content of an earlier version (an applied or approved revision) of
    the locked place as its next version. Raises RevisionNotRevertible (400, naming
    `revision`) for another place's revision, a proposal that never was published, or
    the content the place already has."""
    revision = LocationRevision.objects.filter(pk=revision_id, location=location).first()
    if revision is None:
        raise RevisionNotRevertible("No revision with this id belongs to this place.")
    if revision.status not in (RevisionStatus.APPLIED, RevisionStatus.APPROVED):
        raise RevisionNotRevertible(
            f"A {revision.status} revision was never published; only earlier versions "
            "(applied or approved revisions) can be restored."
        )
    if same_content(content_of(location), content_of(revision)):
        raise RevisionNotRevertible("The place already has this content.")
    return _content_apply(
        location=location,
        content=content_of(revision),
        actor=moderator,
        source=SOURCE_REVERT,
        reverted_from=revision,
    )


def location_delete(*, location: Location, actor=None) -> None:
    """Delete a place and its photos. Photo objects leave storage once the deletion has
    committed (media_store.signals); a public place also leaves the live map."""
    with tracer.start_as_current_span("placemap.locations.delete") as span, transaction.atomic():
        span.set_attribute("placemap.location.id", str(location.id))
        location = Location.objects.select_for_update().get(pk=location.pk)
        if location.status == LocationStatus.APPROVED:
            feed.publish_on_commit(
                event=events.LOCATION_REMOVED,
                location_id=location.id,
                lon=location.point.x,
                lat=location.point.y,
            )
        location._history_user = actor  # type: ignore[attr-defined]
        # Image rows are deleted by the ORM cascade (not by Postgres) so that each
        # post_delete signal schedules its objects' removal.
        location.delete()


def location_lock(*, location_id: UUID | str) -> Location:
    """The place, its row locked (SELECT ... FOR UPDATE) until the caller's transaction
    ends: concurrent decisions on one place queue here and each sees the status the one
    before it committed. Call inside transaction.atomic(). Raises Location.DoesNotExist."""
    return Location.objects.select_for_update().get(pk=location_id)


def location_status_set(*, location: Location, status: str, actor=None) -> None:
    """Move a place (locked with location_lock) to `status` and tell open maps.

    Approving stamps approved_at (the database refuses it on any other status), except
    that a place put back after being hidden keeps the time it was first approved; it
    publishes the place's Feature once the transaction commits; a place leaving
    `approved` is removed from the maps. A pending place never was on one, so rejecting
    it publishes nothing. Whether the move is allowed is the caller's decision.
    """
    from_status = location.status
    location.status = status
    if status != LocationStatus.APPROVED:
        location.approved_at = None
    elif from_status == LocationStatus.HIDDEN:
        location.approved_at = _approved_at_before_hiding(location) or timezone.now()
    else:
        location.approved_at = timezone.now()
    location._history_user = actor  # type: ignore[attr-defined]
    location._change_reason = f"status {status}"  # type: ignore[attr-defined]
    location.save(update_fields=["status", "approved_at", "updated_at"])

    lon, lat = location.point.x, location.point.y
    if status == LocationStatus.APPROVED:
        feed.publish_on_commit(
            event=events.LOCATION_APPROVED,
            location_id=location.id,
            lon=lon,
            lat=lat,
            # Built inside the transaction: it sees the place as approved.
            feature=location_public_feature(location_id=location.id),
        )
    elif from_status == LocationStatus.APPROVED:
        feed.publish_on_commit(
            event=events.LOCATION_REMOVED, location_id=location.id, lon=lon, lat=lat, feature=None
        )


def _approved_at_before_hiding(location: Location):
    """When the place was approved, from its audit history (hiding clears the column)."""
    return (
        location.history.filter(status=LocationStatus.APPROVED, approved_at__isnull=False)
        .order_by("-history_date", "-history_id")
        .values_list("approved_at", flat=True)
        .first()
    )


def location_merge_into(*, location: Location, target: Location, actor) -> int:
    """Merge the locked place `location` into the locked place `target` (moderation
    checks who may and which places): its photos move to the target, it becomes
    `merged` with `merged_into` set (off every public read; its detail redirects), a
    pending revision of it is superseded, and its revisions and audit rows stay. Open
    maps hear `location.removed` for it (when it was public) and `location.updated`
    for a public target. Returns how many photos moved."""
    was_public = location.status == LocationStatus.APPROVED
    pending = location_pending_revision(location_id=location.id)
    if pending is not None:
        _revision_close(
            location=location, revision=pending, status=RevisionStatus.SUPERSEDED, actor=actor
        )
    moved = images_move(from_location_id=location.id, to_location_id=target.id)
    location.status = LocationStatus.MERGED
    location.merged_into = target
    location.approved_at = None
    location._history_user = actor  # type: ignore[attr-defined]
    location._change_reason = f"merged into {target.id}"  # type: ignore[attr-defined]
    location.save(update_fields=["status", "merged_into", "approved_at", "updated_at"])
    if was_public:
        feed.publish_on_commit(
            event=events.LOCATION_REMOVED,
            location_id=location.id,
            lon=location.point.x,
            lat=location.point.y,
            feature=None,
        )
    if target.status == LocationStatus.APPROVED:
        # Its photos changed: a new updated_at (and audit row) tells caches and readers.
        target._history_user = actor  # type: ignore[attr-defined]
        target._change_reason = f"merged from {location.id}"  # type: ignore[attr-defined]
        target.save(update_fields=["updated_at"])
        feed.publish_on_commit(
            event=events.LOCATION_UPDATED,
            location_id=target.id,
            lon=target.point.x,
            lat=target.point.y,
            feature=location_public_feature(location_id=target.id),
            previous=None,
        )
    return moved


def location_spam_set(*, location_id: UUID | str, score: int, signals: list[dict]) -> None:
    """Store the spam score of a place's latest submission or edit and the signals that
    fired (moderation.spam computes them; the queue shows them). No audit row: a score
    is not content."""
    Location.objects.filter(pk=location_id).update(spam_score=score, spam_signals=signals)
