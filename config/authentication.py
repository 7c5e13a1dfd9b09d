"""API authentication: the session only when the request brings its cookie.

DRF's SessionAuthentication reads `request.user`, which loads the session: Django then
marks the response `Vary: Cookie`, and no shared cache keeps an anonymous answer. Here the
session is consulted only if its cookie came with the request (a moderator using the
browsable API while logged in to the admin); anonymous and token requests never touch it.
Cross-origin calls carry no cookies (CORS_ALLOW_CREDENTIALS is off), so a page on another
origin can only authenticate with `Authorization: Token ...`.
"""

from django.conf import settings
from rest_framework.authentication import SessionAuthentication


class SessionCookieAuthentication(SessionAuthentication):
    def authenticate(self, request):
        if settings.SESSION_COOKIE_NAME not in request._request.COOKIES:
            return None
        return super().authenticate(request)
