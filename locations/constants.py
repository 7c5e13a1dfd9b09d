"""The fixed list of place categories, served by GET /api/v1/categories."""

CATEGORIES: dict[str, str] = {
    "restaurant": "Restaurant",
    "cafe": "Café",
    "bar": "Bar",
    "park": "Park",
    "museum": "Museum",
    "viewpoint": "Viewpoint",
    "monument": "Monument",
    "shop": "Shop",
    "market": "Market",
    "library": "Library",
    "playground": "Playground",
    "toilet": "Public toilet",
    "drinking_water": "Drinking water",
    "other": "Other",
}
CATEGORY_CHOICES = list(CATEGORIES.items())

NAME_MIN_LENGTH = 3
NAME_MAX_LENGTH = 120
DESCRIPTION_MAX_LENGTH = 5000
ADDRESS_MAX_LENGTH = 255
# Full-text search language; queries must pass the same config to hit the GIN index.
SEARCH_CONFIG = "english"
