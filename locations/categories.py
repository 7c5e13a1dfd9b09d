"""Categories as data (locations.Category): the one place that says which slugs exist,
which may be given to a place, and what they are called in each language.

Every check of a category goes through here: the API's serializers and services, the
bulk import, the read filters (search, viewport, tiles, OGC, export).

- `known_slugs()`: every category, active or not. A read filter accepts these (an old
  place keeps a deactivated category and can still be found by it).
- `check_place_category(slug, current=...)`: a place may get `slug` if it is active, or
  if it already has it (editing an old place without changing its category).

The slugs are read once and kept in the process for CATEGORY_CACHE_SECONDS, and dropped
at once when this process saves or deletes a category: the hot reads that filter by
category make no extra query. Another process (web worker, Celery) sees an admin's change
within CATEGORY_CACHE_SECONDS; a write (`fresh=True`) always reads the table.
"""

import logging
import threading
import time
from collections.abc import Iterable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import DatabaseError, transaction
from django.db.models.signals import post_delete, post_save

from config.errors import DependencyUnavailable
from locations.constants import CATEGORY_CACHE_SECONDS
from locations.models import Category, Location, LocationRevision

__all__ = [
    "CategoryText",
    "active_slugs",
    "categories_localized",
    "category_in_use",
    "category_label",
    "category_labels",
    "check_place_category",
    "clear_cache",
    "known_slugs",
    "translation_gaps",
]

logger = logging.getLogger(__name__)

# The languages every category is written in: settings.LANGUAGES, one label_<code> and
# description_<code> column each (tests/locations/test_categories.py checks they agree).
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class CategoryText:
    slug: str
    active: bool
    order: int
    icon: str
    labels: dict[str, str]
    descriptions: dict[str, str]

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels[DEFAULT_LANGUAGE]

    def description(self, language: str) -> str:
        return self.descriptions.get(language) or self.descriptions[DEFAULT_LANGUAGE]


_lock = threading.Lock()
_cached: tuple[float, dict[str, CategoryText]] | None = None


def _codes() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def _load() -> dict[str, CategoryText]:
    codes = _codes()
    fields = ["slug", "active", "order", "icon"]
    fields += [f"label_{code}" for code in codes] + [f"description_{code}" for code in codes]
    return {
        row["slug"]: CategoryText(
            slug=row["slug"],
            active=row["active"],
            order=row["order"],
            icon=row["icon"],
            labels={code: row[f"label_{code}"] for code in codes},
            descriptions={code: row[f"description_{code}"] for code in codes},
        )
        for row in Category.objects.order_by("order", "slug").values(*fields)
    }


def _all(*, fresh: bool = False) -> dict[str, CategoryText]:
    global _cached
    now = time.monotonic()
    snapshot = _cached
    if fresh or snapshot is None or now - snapshot[0] > CATEGORY_CACHE_SECONDS:
        try:
            loaded = _load()
        except (DatabaseError, DependencyUnavailable):
            if fresh or snapshot is None:
                raise
            # Database down: a read keeps the last categories it knew (retried after
            # another CATEGORY_CACHE_SECONDS), so the map's stale fallback copies
            # (locations.api.fallback) can still answer a filtered read.
            logger.warning("Categories unreadable; keeping the last ones read", exc_info=True)
            loaded = snapshot[1]
        with _lock:
            _cached = (now, loaded)
        return loaded
    return snapshot[1]


def clear_cache() -> None:
    """Forget the categories read (a save or delete in this process; tests)."""
    global _cached
    with _lock:
        _cached = None


def _changed(**_kwargs) -> None:
    # Now, and again after the commit: a read between the save and the commit (in this
    # transaction) would otherwise keep a state that a rollback undoes.
    clear_cache()
    transaction.on_commit(clear_cache)


post_save.connect(_changed, sender=Category, dispatch_uid="categories-clear-on-save")
post_delete.connect(_changed, sender=Category, dispatch_uid="categories-clear-on-delete")


def known_slugs() -> frozenset[str]:
    """Every category's slug, active or not: what the read filters accept."""
    return frozenset(_all())


def active_slugs(*, fresh: bool = False) -> frozenset[str]:
    """The slugs a new place may get. `fresh`: read the table, not this process's copy."""
    return frozenset(slug for slug, text in _all(fresh=fresh).items() if text.active)


class Snapshot:
    """The categories as read at one moment. A long job that must not query between rows
    (the bulk import validates rows while it COPYs them in) checks against one snapshot."""

    def __init__(self, categories: dict[str, CategoryText]):
        self._categories = categories

    def known(self) -> list[str]:
        """Every category's slug, active or not."""
        return list(self._categories)

    def active(self) -> list[str]:
        """The slugs a new place may have."""
        return [slug for slug, text in self._categories.items() if text.active]

    def check(self, slug: str, *, current: str | None = None) -> None:
        """Raise ValidationError({"category": [...]}) unless a place whose category is
        `current` (None: a new place) may have `slug`: an active category, or its own."""
        found = self._categories.get(slug)
        if found is None:
            raise ValidationError(
                {"category": [f"Unknown category: {slug[:40]}. See GET /api/v1/categories."]}
            )
        if not found.active and slug != current:
            raise ValidationError(
                {
                    "category": [
                        f"The category {slug} is no longer offered for new places; "
                        "choose another (GET /api/v1/categories)."
                    ]
                }
            )


def snapshot(*, fresh: bool = False) -> Snapshot:
    return Snapshot(_all(fresh=fresh))


def check_place_category(slug: str, *, current: str | None = None, fresh: bool = False) -> None:
    """Raise ValidationError({"category": [...]}) unless a place whose category is
    `current` (None: a new place) may have `slug` (Snapshot.check). `fresh`: read the
    table rather than this process's copy (the services' writes)."""
    snapshot(fresh=fresh).check(slug, current=current)


def categories_localized(language: str, *, include_inactive: bool = False) -> list[dict]:
    """The categories in display order, labelled in `language` (English where a
    translation is missing)."""
    return [
        {
            "slug": text.slug,
            "label": text.label(language),
            "description": text.description(language),
            "icon": text.icon,
            "active": text.active,
        }
        for text in _all().values()
        if include_inactive or text.active
    ]


def category_labels(language: str) -> dict[str, str]:
    """{slug: label} of every category (active or not: old places keep theirs)."""
    return {slug: text.label(language) for slug, text in _all().items()}


def category_label(slug: str, language: str = DEFAULT_LANGUAGE) -> str:
    """The label of `slug` in `language`; the slug itself if no such category exists."""
    text = _all().get(slug)
    return text.label(language) if text is not None else slug


def category_label_translations(slug: str) -> dict[str, str]:
    """{language: label} of `slug` in every language of LANGUAGES (the slug itself for
    an unknown category): for text stored now and rendered later in a reader's language."""
    return {code: category_label(slug, code) for code, _name in settings.LANGUAGES}


def category_in_use(slug: str) -> bool:
    """Whether a place or a revision of one names the category (it cannot be deleted)."""
    return (
        Location.objects.filter(category=slug).exists()
        or LocationRevision.objects.filter(category=slug).exists()
    )


def translation_gaps(slugs: Iterable[str] | None = None) -> dict[str, list[str]]:
    """{slug: [missing fields]} of the active categories lacking a label or description in
    a language of settings.LANGUAGES."""
    gaps: dict[str, list[str]] = {}
    for slug, text in _all(fresh=True).items():
        if not text.active or (slugs is not None and slug not in slugs):
            continue
        missing = [f"label_{code}" for code, value in text.labels.items() if not value.strip()]
        missing += [
            f"description_{code}" for code, value in text.descriptions.items() if not value.strip()
        ]
        if missing:
            gaps[slug] = missing
    return gaps
