"""Update the mail templates' catalogs: `manage.py mail_messages`.

Django's makemessages does not read Jinja templates, so this extracts the messages of
templates/notifications/ with Jinja's own extractor ({% trans %}, _()), writes them as
a template catalog and merges it into every notifications/locale/<lang>/LC_MESSAGES/
django.po with GNU msgmerge (Debian `gettext`): new messages arrive untranslated, kept
ones keep their translation, near matches are marked fuzzy (not used until a translator
clears the flag), removed ones become obsolete comments. docs/accounts.md, "Localized mail".
"""

import re
import shutil
import subprocess
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.template import engines

# Django's own template-to-catalog header, so msgmerge and msgfmt read it the same way.
POT_HEADER = """# Messages of Placemap's notification mails (templates/notifications/).
msgid ""
msgstr ""
"Project-Id-Version: placemap\\n"
"MIME-Version: 1.0\\n"
"Content-Type: text/plain; charset=UTF-8\\n"
"Content-Transfer-Encoding: 8bit\\n"
"""
PLACEHOLDER = re.compile(r"%\((\w+)\)s")


def _quote(text: str) -> str:
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def template_messages(root: Path) -> dict[tuple[str, ...], list[str]]:
    """(msgid,) or (msgid, msgid_plural) -> where each occurs ("path:line")."""
    env = engines["jinja2"].env  # type: ignore[attr-defined]
    found: dict[tuple[str, ...], list[str]] = {}
    for path in sorted(root.rglob("*")):
        if not path.is_file():
            continue
        where = path.relative_to(settings.BASE_DIR).as_posix()
        for lineno, function, message in env.extract_translations(path.read_text()):
            strings = [message] if isinstance(message, str) else [m for m in message if m]
            key = tuple(strings[:2]) if function == "ngettext" else (strings[0],)
            found.setdefault(key, []).append(f"{where}:{lineno}")
    return found


def pot_text(messages: dict[tuple[str, ...], list[str]]) -> str:
    blocks = [POT_HEADER]
    for key, places in messages.items():
        lines = [f"#: {' '.join(places)}"]
        if any(PLACEHOLDER.search(text) for text in key):
            # msgfmt --check-format then refuses a translation whose placeholders differ.
            lines.append("#, python-format")
        lines.append(f"msgid {_quote(key[0])}")
        if len(key) == 2:
            lines += [f"msgid_plural {_quote(key[1])}", 'msgstr[0] ""', 'msgstr[1] ""']
        else:
            lines.append('msgstr ""')
        blocks.append("\n".join(lines) + "\n")
    return "\n".join(blocks)


class Command(BaseCommand):
    help = "Merge the notification templates' messages into notifications/locale/*/django.po."

    def handle(self, *args, **options):
        msgmerge = shutil.which("msgmerge")
        if msgmerge is None:
            raise CommandError("msgmerge not found: install gettext (.ci/setup.sh does).")
        base = Path(settings.BASE_DIR)
        locale = base / "notifications" / "locale"
        messages = template_messages(base / "templates" / "notifications")
        pot = locale / "django.pot"
        pot.write_text(pot_text(messages))
        try:
            for po in sorted(locale.glob("*/LC_MESSAGES/django.po")):
                subprocess.run(  # noqa: S603 (a fixed program on our own files)
                    [msgmerge, "--quiet", "--update", "--backup=none", str(po), str(pot)],
                    check=True,
                )
                self.stdout.write(f"{po.relative_to(base)}: {len(messages)} messages")
        finally:
            pot.unlink()
