"""The names of the events moderation raises, defined once (notification rows store
them). A place's own events (approved, rejected, ...) are in locations.events."""

MODERATION_DIGEST = "moderation.digest"

# A moderator rejected a photo (its uploader is told why).
IMAGE_REJECTED_EVENT = "image.rejected"
# A flag was resolved (its reporter is told the outcome, once).
FLAG_RESOLVED_EVENT = "flag.resolved"
# A place was merged into another (its submitter is told where it lives on).
LOCATION_MERGED_EVENT = "location.merged"
# A submission or edit was rejected automatically (spam score): told in neutral words.
LOCATION_AUTO_REJECTED_EVENT = "location.auto_rejected"
