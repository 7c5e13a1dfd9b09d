from config.params import FeatureCollectionPagination
from locations import constants


class OwnLocationsPagination(FeatureCollectionPagination):
    """GET /me/locations: a user's own list is small enough for a COUNT."""

    default_limit = constants.SEARCH_LIMIT_DEFAULT
    max_limit = constants.SEARCH_LIMIT_MAX
