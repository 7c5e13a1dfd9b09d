# ruff: noqa: RUF001, RUF002, RUF003 (a table of look-alike letters, on purpose)
"""The confusable skeleton of a username: two names with the same skeleton look alike
(`admin`, `Admin`, `аdmin` with a Cyrillic а, `ａｄｍｉｎ`, `adm1n`), so a new account may
not take a skeleton another account holds. Stored in User.username_skeleton (unique), so
the check holds under concurrent sign-ups.

Unicode TR39's skeleton in spirit, made case-insensitive (https://www.unicode.org/reports/tr39/#def-skeleton):
NFKC, each character mapped to its Latin look-alike prototype, case folded. Unlike TR39,
capital I is not folded into l: after case folding it would make every i/l pair collide
(`ali` and `all`).
The mapping is the small explicit table below, not the full confusables.txt: the
maintained Python packages do not compute a skeleton (confusable-homoglyphs 3.3.1 only
answers "is this string mixed-script and confusable", with no canonical form to index;
confusables 1.2.0, last released 2021, returns candidate lists), and PyICU's
SpoofChecker needs the ICU C++ library built into the image. Usernames are
`[\\w.@+-]`, so the table covers the scripts whose letters pass for Latin ones (Cyrillic,
Greek, Latin small capitals and IPA letters) and the digit/letter pairs; NFKC already folds
full-width, mathematical and other compatibility forms.
"""

import unicodedata

from config.text import clean_text

# Upper-case look-alikes, mapped before case folding by their own shape (Greek Ν looks
# like N, its lower case ν like v): to the lower case of the Latin letter they pass for.
_UPPER = str.maketrans({
    # Cyrillic
    "А": "a", "В": "b", "С": "c", "Е": "e", "Н": "h", "І": "i", "Ј": "j", "К": "k",
    "М": "m", "О": "o", "Р": "p", "Ѕ": "s", "Т": "t", "Х": "x", "Ү": "y", "Ԛ": "q",
    "Ԝ": "w", "Ӏ": "i", "Ь": "b",
    # Greek
    "Α": "a", "Β": "b", "Ε": "e", "Ζ": "z", "Η": "h", "Ι": "i", "Κ": "k", "Μ": "m",
    "Ν": "n", "Ο": "o", "Ρ": "p", "Τ": "t", "Υ": "y", "Χ": "x",
})  # fmt: skip
# Lower-case look-alikes and digits, mapped after case folding.
_LOWER = str.maketrans({
    # Cyrillic
    "а": "a", "с": "c", "ԁ": "d", "е": "e", "һ": "h", "і": "i", "ј": "j", "ӏ": "l",
    "о": "o", "р": "p", "ԛ": "q", "ѕ": "s", "ԝ": "w", "х": "x", "у": "y", "ү": "y",
    "ѵ": "v", "ь": "b", "г": "r", "п": "n", "к": "k", "м": "m", "т": "t", "в": "b",
    "н": "h",
    # Greek
    "α": "a", "β": "b", "γ": "y", "ε": "e", "ι": "i", "κ": "k", "ν": "v", "ο": "o",
    "ρ": "p", "τ": "t", "υ": "u", "χ": "x", "ω": "w",
    # Latin small capitals and IPA letters
    "ᴀ": "a", "ʙ": "b", "ᴄ": "c", "ᴅ": "d", "ᴇ": "e", "ɢ": "g", "ʜ": "h", "ɪ": "i",
    "ᴊ": "j", "ᴋ": "k", "ʟ": "l", "ᴍ": "m", "ɴ": "n", "ᴏ": "o", "ᴘ": "p", "ʀ": "r",
    "ꜱ": "s", "ᴛ": "t", "ᴜ": "u", "ᴠ": "v", "ᴡ": "w", "ʏ": "y", "ᴢ": "z", "ı": "i",
    "ɑ": "a", "ɡ": "g", "ɩ": "i", "ɵ": "o",
    # Digits that pass for letters (TR39: 0 -> o, 1 -> l).
    "0": "o", "1": "l",
})  # fmt: skip
# Letter pairs TR39 also folds ("rn" reads as "m", "vv" as "w").
_DIGRAPHS = (("rn", "m"), ("vv", "w"))

SKELETON_MAX_LENGTH = 600


def username_skeleton(username: str) -> str:
    text = unicodedata.normalize("NFKC", clean_text(username)).translate(_UPPER)
    text = unicodedata.normalize("NFKC", text.casefold()).translate(_LOWER)
    for pair, prototype in _DIGRAPHS:
        text = text.replace(pair, prototype)
    return text
