"""The events Placemap tells people about, and what their templates are given.

Callers pass `context` to notify(); it is stored as the notification's payload and,
with a few derived values (links, the reason in words), becomes the template context.
Keys each event needs are listed here and checked by notify(), so a caller that forgets
one fails in its own tests instead of mailing a broken email later.
"""

from dataclasses import dataclass

from django.conf import settings

from moderation.constants import REASON_CODES

LOCATION_SUBMITTED = "location.submitted"
LOCATION_APPROVED = "location.approved"
LOCATION_REJECTED = "location.rejected"
MODERATION_DIGEST = "moderation.digest"


@dataclass(frozen=True)
class Event:
    name: str
    # Directory under templates/ holding subject.txt, body.txt and body.html.
    template_dir: str
    required_keys: frozenset[str]


EVENTS: dict[str, Event] = {
    event.name: event
    for event in (
        Event(
            LOCATION_SUBMITTED,
            "notifications/location_submitted",
            frozenset({"location_id", "location_name"}),
        ),
        Event(
            LOCATION_APPROVED,
            "notifications/location_approved",
            frozenset({"location_id", "location_name"}),
        ),
        Event(
            LOCATION_REJECTED,
            "notifications/location_rejected",
            frozenset({"location_id", "location_name", "reason_code", "reason"}),
        ),
        Event(
            MODERATION_DIGEST,
            "notifications/moderation_digest",
            frozenset({"period", "pending_count", "places"}),
        ),
    )
}


def place_url(location_id: str) -> str:
    return f"{settings.SITE_URL}/api/v1/locations/{location_id}"


def template_context(*, event: Event, payload: dict, recipient) -> dict:
    context = dict(payload)
    context["site_url"] = settings.SITE_URL
    context["recipient_name"] = recipient.get_full_name() or recipient.get_username()
    if "location_id" in payload:
        context["place_url"] = place_url(payload["location_id"])
    if event.name == LOCATION_REJECTED:
        # The code in words; moderation passes its label, older payloads may not.
        context["reason_label"] = payload.get("reason_label") or REASON_CODES.get(
            payload["reason_code"], payload["reason_code"]
        )
        context["take_down"] = bool(
            payload.get("take_down", payload.get("previous_status") == "approved")
        )
    if event.name == MODERATION_DIGEST:
        context["places"] = [
            {**place, "place_url": place_url(place["location_id"])} for place in payload["places"]
        ]
    return context
