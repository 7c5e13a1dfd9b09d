"""The Jinja2 environment of notification templates (TEMPLATES entry "jinja2")."""

from jinja2 import Environment, StrictUndefined, select_autoescape


def environment(**options) -> Environment:
    # Subjects and plain-text bodies must not be HTML-escaped ("Fish & Chips", not
    # "Fish &amp; Chips"); HTML bodies must be. A misspelt variable raises instead of
    # mailing a blank.
    options["autoescape"] = select_autoescape(
        enabled_extensions=("html",), default_for_string=False, default=False
    )
    options["undefined"] = StrictUndefined
    options.setdefault("trim_blocks", True)
    options.setdefault("lstrip_blocks", True)
    return Environment(**options)  # noqa: S701 - autoescape is set per extension above
