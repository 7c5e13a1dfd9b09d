"""The names of the events a place goes through, defined once.

The same names label the submitter's notifications (notifications) and the live map
feed's messages (locations.feed, docs/live-feed.md); both are public contracts, and
notification rows store them.
"""

LOCATION_SUBMITTED = "location.submitted"
LOCATION_APPROVED = "location.approved"
LOCATION_UPDATED = "location.updated"
LOCATION_REMOVED = "location.removed"
LOCATION_REJECTED = "location.rejected"
# An owner's edit of an approved place (a pending revision) published or discarded.
LOCATION_REVISION_APPROVED = "location.revision_approved"
LOCATION_REVISION_REJECTED = "location.revision_rejected"

# What open maps hear (ws /ws/map/): a place appearing, changing or leaving the map.
FEED_EVENTS = frozenset({LOCATION_APPROVED, LOCATION_UPDATED, LOCATION_REMOVED})
