"""The names of the events moderation raises, defined once (notification rows store
them). A place's own events (approved, rejected, ...) are in locations.events."""

MODERATION_DIGEST = "moderation.digest"
