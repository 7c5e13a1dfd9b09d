"""The notifications moderation raises (autodiscovered by notifications): the
submitter's decision mails and the moderators' digest."""

from django.utils.translation import gettext

from accounts.selectors import moderators_wanting_digest
from locations.constants import LocationStatus
from locations.events import (
    LOCATION_APPROVED,
    LOCATION_REJECTED,
    LOCATION_REVISION_APPROVED,
    LOCATION_REVISION_REJECTED,
)
from locations.notification_events import add_place_url, place_url
from moderation.constants import REASON_CODES
from moderation.events import (
    FLAG_RESOLVED_EVENT,
    IMAGE_REJECTED_EVENT,
    LOCATION_AUTO_REJECTED_EVENT,
    LOCATION_MERGED_EVENT,
    MODERATION_DIGEST,
)
from moderation.services import moderation_digest_content
from notifications.digests import Digest, register_digest
from notifications.events import Event, register_event


def reason_label(payload: dict) -> str:
    """The reason code in words, in the language the mail renders in: moderation stores
    its English label (older payloads may lack it) and the catalogs translate it
    (moderation/locale; tests/notifications/test_localized_mail.py checks them all)."""
    label = payload.get("reason_label") or REASON_CODES.get(
        payload["reason_code"], payload["reason_code"]
    )
    return gettext(label)


def rejection_context(payload: dict) -> dict:
    return {
        **add_place_url(payload),
        "reason_label": reason_label(payload),
        "take_down": bool(
            payload.get("take_down", payload.get("previous_status") == LocationStatus.APPROVED)
        ),
    }


def digest_context(payload: dict) -> dict:
    return {
        "places": [
            {**place, "place_url": place_url(place["location_id"])} for place in payload["places"]
        ]
    }


register_event(
    Event(
        LOCATION_APPROVED,
        "notifications/location_approved",
        frozenset({"location_id", "location_name"}),
        context=add_place_url,
    )
)
register_event(
    Event(
        LOCATION_REJECTED,
        "notifications/location_rejected",
        frozenset({"location_id", "location_name", "reason_code", "reason"}),
        context=rejection_context,
    )
)
# --- Versions and revisions: the owner hears how their edit of an approved place ended.


def revision_rejection_context(payload: dict) -> dict:
    return {
        **add_place_url(payload),
        "reason_label": reason_label(payload),
    }


register_event(
    Event(
        LOCATION_REVISION_APPROVED,
        "notifications/location_revision_approved",
        frozenset({"location_id", "location_name", "revision_id", "version"}),
        context=add_place_url,
    )
)
register_event(
    Event(
        LOCATION_REVISION_REJECTED,
        "notifications/location_revision_rejected",
        frozenset({"location_id", "location_name", "revision_id", "reason_code", "reason"}),
        context=revision_rejection_context,
    )
)
register_event(
    Event(
        MODERATION_DIGEST,
        "notifications/moderation_digest",
        frozenset({"period", "pending_count", "places"}),
        context=digest_context,
    )
)
register_digest(
    Digest(
        event=MODERATION_DIGEST,
        recipients=moderators_wanting_digest,
        content=moderation_digest_content,
    )
)


# --- Photos and flags (docs/moderation.md) ------------------------------------------


def image_rejection_context(payload: dict) -> dict:
    location_id = payload.get("location_id")
    return {
        "place_url": place_url(location_id) if location_id else None,
        "reason_label": reason_label(payload),
    }


def flag_resolved_context(payload: dict) -> dict:
    location_id = payload.get("location_id")
    return {
        "place_url": place_url(location_id) if location_id else None,
        "what": "place" if payload["target_type"] == "location" else "photo",
        "actioned": payload["resolution"] == "actioned",
    }


register_event(
    Event(
        IMAGE_REJECTED_EVENT,
        "notifications/image_rejected",
        frozenset({"image_id", "reason_code", "reason"}),
        context=image_rejection_context,
    )
)
register_event(
    Event(
        FLAG_RESOLVED_EVENT,
        "notifications/flag_resolved",
        frozenset({"flag_id", "target_type", "resolution"}),
        context=flag_resolved_context,
    )
)


# --- Duplicates and spam (docs/moderation.md) ------------------------------------------


def merged_context(payload: dict) -> dict:
    return {**add_place_url(payload), "into_url": place_url(payload["into_id"])}


register_event(
    Event(
        LOCATION_MERGED_EVENT,
        "notifications/location_merged",
        frozenset({"location_id", "location_name", "into_id", "into_name"}),
        context=merged_context,
    )
)
register_event(
    Event(
        LOCATION_AUTO_REJECTED_EVENT,
        "notifications/location_auto_rejected",
        frozenset({"location_id", "location_name"}),
        context=add_place_url,
    )
)
