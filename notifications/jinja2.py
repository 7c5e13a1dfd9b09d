"""The Jinja2 environment of notification templates (TEMPLATES entry "jinja2")."""

from django.utils.translation import get_language, gettext, ngettext
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
    # {% trans %} ... {% endtrans %} (Jinja's {% blocktranslate %}) through Django's
    # catalogs, in the language active when the mail renders (EmailChannel.render
    # activates the recipient's). Newstyle: placeholders are escaped in .html, and a
    # translation missing a placeholder fails loudly instead of mailing it raw.
    options["extensions"] = [*options.get("extensions", ()), "jinja2.ext.i18n"]
    env = Environment(**options)  # noqa: S701 - autoescape is set per extension above
    env.install_gettext_callables(gettext, ngettext, newstyle=True)  # type: ignore[attr-defined]
    # The language the mail renders in, for text its context carries in every language
    # (the digest's category labels).
    env.globals["get_language"] = get_language
    # Line breaks and indentation inside a {% trans %} block are not part of its message
    # id: one msgid per sentence whatever the template's wrapping.
    env.policies["ext.i18n.trimmed"] = True
    return env
