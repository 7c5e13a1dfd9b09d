"""One normalisation for the text people type: place names, descriptions, addresses and
usernames, whether they come from the API, an import file or the admin console.

`clean_text` runs BEFORE any length or blank check, so invisible input cannot pass a
minimum length: NFC, then format (Cf) and control (Cc) characters removed (a description
keeps its line breaks and tabs; NUL is left for the field to refuse), then every kind of surrounding whitespace stripped
(str.strip covers NBSP, the other Zs spaces and the line/paragraph separators).

Two format characters are kept between visible characters: ZERO WIDTH NON-JOINER and
ZERO WIDTH JOINER spell Persian and Indic words and emoji sequences; anywhere else
(alone, in a run of invisibles, or at either end) they are removed like the rest.
"""

import re
import unicodedata

from rest_framework import serializers

# NUL is kept so the field refuses it (DRF's ProhibitNullCharactersValidator): a NUL in
# text is a broken or hostile client, and silently dropping it would hide that.
_KEEP = frozenset("\x00")
_MULTILINE_KEEP = _KEEP | frozenset("\n\t")
_JOINERS = frozenset("\u200c\u200d")
# A joiner (or a run of them) not between two visible characters.
_STRAY_JOINERS = re.compile(r"(?:(?<=\s)|^)[\u200c\u200d]+|[\u200c\u200d]+(?=\s|$)")


def clean_text(value: str, *, multiline: bool = False) -> str:
    # Fast path (most text, and what makes a million-row import cheap): a printable
    # string has no Cc/Cf character (so no joiner either) and no whitespace but U+0020
    # (str.isprintable: "Other" and "Separator" categories are not printable, the ASCII
    # space is); if it is also NFC and has no space at either end, every step below
    # leaves it as it is. tests/config/test_text.py checks this on every code point.
    if (
        value.isprintable()
        and value[:1] != " "
        and value[-1:] != " "
        and (value.isascii() or unicodedata.is_normalized("NFC", value))
    ):
        return value
    return _clean(value, multiline=multiline)


def _clean(value: str, *, multiline: bool) -> str:
    keep = _MULTILINE_KEEP if multiline else _KEEP
    value = unicodedata.normalize("NFC", value)
    value = "".join(
        ch
        for ch in value
        if ch in keep or ch in _JOINERS or unicodedata.category(ch) not in ("Cf", "Cc")
    )
    # Collapse runs of joiners first so a run between letters counts once.
    value = re.sub(r"[\u200c\u200d]{2,}", lambda m: m.group(0)[0], value)
    value = _STRAY_JOINERS.sub("", value.strip())
    return value.strip()


class CleanCharField(serializers.CharField):
    """A CharField whose value is clean_text()ed before the blank and length checks."""

    def __init__(self, *, multiline: bool = False, **kwargs):
        self.multiline = multiline
        super().__init__(**kwargs)

    def run_validation(self, data=serializers.empty):
        if isinstance(data, str):
            data = clean_text(data, multiline=self.multiline)
        return super().run_validation(data)
