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

# What open maps hear (ws /ws/map/): a place appearing, changing or leaving the map.
FEED_EVENTS = frozenset({LOCATION_APPROVED, LOCATION_UPDATED, LOCATION_REMOVED})
