"""The language of an answer, from the request's Accept-Language (RFC 9110 12.5.4).

Only the views whose answer has translated text (categories, the OGC queryables, the map
page) negotiate, with `negotiate(request)`, and mark their answer with `localize()`:
`Content-Language` and `Vary: Accept-Language`. Django's LocaleMiddleware is not in the
stack: it would activate a translation on every request and add `Vary: Accept-Language`
to every answer, tiles and viewport included, splitting their shared caches by language
for answers that have no text to translate (docs/places.md "Languages").
"""

from django.conf import settings
from django.http import HttpRequest, HttpResponseBase
from django.utils.cache import patch_vary_headers
from django.utils.translation.trans_real import parse_accept_lang_header

# Longer headers are not a browser's; parse_accept_lang_header has its own bound too.
ACCEPT_LANGUAGE_MAX_LENGTH = 500


def supported_languages() -> list[str]:
    return [code for code, _name in settings.LANGUAGES]


def match_language(tag: str) -> str | None:
    """The supported language for one language tag: itself, or its primary subtag
    (de-DE, de-CH -> de). None if neither is supported."""
    supported = supported_languages()
    tag = tag.strip().lower()
    for candidate in (tag, tag.split("-")[0]):
        if candidate in supported:
            return candidate
    return None


def negotiate(request: HttpRequest) -> str:
    """The supported language the request prefers most (q-values honoured, q=0 refused),
    else settings.LANGUAGE_CODE."""
    header = request.headers.get("Accept-Language", "")[:ACCEPT_LANGUAGE_MAX_LENGTH]
    # Sorted by q, highest first (stable for equal q: the header's order).
    for tag, quality in parse_accept_lang_header(header):
        if quality <= 0 or tag == "*":
            continue
        language = match_language(tag)
        if language is not None:
            return language
    return settings.LANGUAGE_CODE


def localize(response: HttpResponseBase, language: str) -> HttpResponseBase:
    """Mark an answer as written in `language`, chosen from Accept-Language
    (config.http_cache puts the language in its ETag)."""
    response["Content-Language"] = language
    patch_vary_headers(response, ("Accept-Language",))
    return response
