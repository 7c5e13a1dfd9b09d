"""config.text.clean_text's fast path (a printable, NFC string without a space at either
end is returned as it is) must give exactly what the full cleaning gives."""

import sys

from hypothesis import given, settings
from hypothesis import strategies as st

from config.text import _clean, clean_text

# Each code point alone, between letters, and after a combining sequence (NFC may fold it).
SAMPLES = ("{c}", "a{c}b", "e\u0301{c}")


def test_the_fast_path_agrees_with_the_full_cleaning_on_every_code_point():
    # Only printable text can take the fast path (anything else goes through _clean).
    disagreements = [
        (hex(code), sample)
        for code in range(sys.maxunicode + 1)
        if chr(code).isprintable()
        for sample in SAMPLES
        if clean_text(text := sample.format(c=chr(code))) != _clean(text, multiline=False)
    ]
    assert disagreements == []


@settings(max_examples=3000, deadline=None)
@given(st.text(), st.booleans())
def test_the_fast_path_agrees_with_the_full_cleaning_on_any_text(text, multiline):
    assert clean_text(text, multiline=multiline) == _clean(text, multiline=multiline)


def test_the_fast_path_still_cleans_what_must_be_cleaned():
    assert clean_text(" Caf\u0065\u0301 ") == "Caf\u00e9"
    assert clean_text("a\u200bb") == "ab"
    assert clean_text("\u00a0x\u00a0") == "x"
    assert clean_text("two\nlines", multiline=True) == "two\nlines"
    assert clean_text("two\nlines") == "twolines"
