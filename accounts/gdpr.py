"""The GDPR registry: each app says what it holds about a user, accounts only runs it.

accounts sits below every app (docs/architecture.md), so it cannot read their models.
Instead each app that holds personal data has a `<app>/gdpr.py` that calls
`register_section(GdprSection(...))` at import time; AccountsConfig.ready() imports every
app's `gdpr` module (autodiscover, as the admin does), and accounts.selectors /
accounts.services run the sections in `order`:

- `export(*, user)` returns the section's JSON-ready rows, written to data.json under `key`;
- `attach_files(*, user, rows, add)` (optional) adds files to the ZIP with
  `add(name, data)`, sets each row's "file" and returns how many files it added;
- `erase(*, user, delete_places)` (optional) runs inside user_erase's transaction, with
  the account locked and before it is deleted, and returns counts named after
  accounts.services.ErasureSummary's fields ({"places_deleted": 3, ...}), which are
  summed over the sections.

docs/gdpr.md says how to add a section.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime

# data.json's own top-level keys, and the profile accounts writes itself.
RESERVED_KEYS = frozenset({"format", "version", "generated_at", "profile"})


@dataclass(frozen=True)
class GdprSection:
    key: str
    export: Callable[..., list[dict]]
    attach_files: Callable[..., int] | None = None
    erase: Callable[..., Mapping[str, int]] | None = None
    # Lower runs first, in the export (data.json's key order) and in the erasure.
    order: int = 100


_registry: dict[str, GdprSection] = {}


def register_section(section: GdprSection) -> None:
    """Add an app's section; a key taken twice is a wiring mistake, refused at start."""
    if section.key in RESERVED_KEYS or section.key in _registry:
        raise ValueError(f"GDPR section key {section.key!r} is already taken.")
    _registry[section.key] = section


def sections() -> list[GdprSection]:
    """The registered sections, by `order` (ties: in registration order)."""
    return sorted(_registry.values(), key=lambda section: section.order)


def export_timestamp(value: datetime | None) -> str | None:
    """A timestamp as data.json has always written it (ISO 8601, "+00:00")."""
    return value.isoformat() if value is not None else None


# --- accounts' own section: the user's suspensions (docs/moderation.md "Suspension") ---


def suspensions_export(*, user) -> list[dict]:
    # Who suspended or lifted is the moderators' data, not the user's: left out.
    from accounts.models import Suspension  # the registry loads before the models

    return [
        {
            "reason": suspension.reason,
            "until": export_timestamp(suspension.until),
            "created_at": export_timestamp(suspension.created_at),
            "lifted_at": export_timestamp(suspension.lifted_at),
        }
        for suspension in Suspension.objects.filter(user=user).order_by("created_at", "id")
    ]


def suspensions_erase(*, user, delete_places: bool) -> dict[str, int]:
    # The account's deletion would cascade to them; said here, where erasure is read.
    from accounts.models import Suspension

    Suspension.objects.filter(user=user).delete()
    return {}


register_section(
    GdprSection(key="suspensions", export=suspensions_export, erase=suspensions_erase, order=36)
)
