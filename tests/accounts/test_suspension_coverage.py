"""No write view escapes the suspension check, nor the email verification check: every
route of /api/v1/ that accepts a writing method has accounts.permissions.NotSuspended and
EmailVerified among its permissions for that method, except the few listed here on
purpose. (tests/moderation/test_suspension.py and tests/accounts/
test_email_verification.py show the refusals end to end.)"""

from django.urls import URLPattern, URLResolver
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from accounts.permissions import EmailVerified, NotSuspended
from config import api_router

WRITE_METHODS = ("post", "put", "patch", "delete")

# (view class name, method): signing in and out, signing up (anonymous), and the GDPR
# erasure, which is a right a suspension does not take away.
EXEMPT = {
    ("TokenView", "post"),
    ("TokenView", "delete"),
    ("RegisterView", "post"),
    ("MeView", "delete"),
    # Anonymous (a link from a mail) or the way out of a compromised account: a suspended
    # user may still recover and change their password.
    ("PasswordResetView", "post"),
    ("PasswordResetConfirmView", "post"),
    ("PasswordChangeView", "post"),
    # A suspended user may still ask for a verification link and use it (anonymous).
    ("EmailVerifyView", "post"),
    ("EmailVerifyResendView", "post"),
}

# (view class name, method): what an account whose address is not verified may still do
# under ACCOUNT_EMAIL_VERIFICATION=mandatory: verify it (or ask for a new link), sign in
# and out, recover or change the password, correct the address or the mails' language
# (PATCH /me: a mistyped address is the usual reason a link never arrives), and erase
# the account.
VERIFICATION_EXEMPT = {
    ("TokenView", "post"),
    ("TokenView", "delete"),
    ("RegisterView", "post"),
    ("EmailVerifyView", "post"),
    ("EmailVerifyResendView", "post"),
    ("PasswordResetView", "post"),
    ("PasswordResetConfirmView", "post"),
    ("PasswordChangeView", "post"),
    ("MeView", "patch"),
    ("MeView", "delete"),
}


def api_views():
    def walk(patterns):
        for pattern in patterns:
            if isinstance(pattern, URLResolver):
                yield from walk(pattern.url_patterns)
            elif isinstance(pattern, URLPattern):
                view_class = getattr(pattern.callback, "view_class", None) or getattr(
                    pattern.callback, "cls", None
                )
                if view_class is not None:
                    yield str(pattern.pattern), view_class

    return list(walk(api_router.urlpatterns))


def permissions_for(view_class, method: str) -> list:
    view = view_class()
    view.request = Request(getattr(APIRequestFactory(), method)("/"))
    view.args, view.kwargs = (), {}
    return view.get_permissions()


def test_every_write_view_checks_the_suspension():
    checked, missing = [], []
    for route, view_class in api_views():
        for method in WRITE_METHODS:
            if not hasattr(view_class, method) or (view_class.__name__, method) in EXEMPT:
                continue
            checked.append((route, method))
            if not any(isinstance(p, NotSuspended) for p in permissions_for(view_class, method)):
                missing.append(f"{method.upper()} {route} ({view_class.__name__})")
    assert missing == []
    # The walk found the write endpoints (submit, edit, delete, upload, flags, moderation).
    assert len(checked) >= 12, checked


def test_every_write_view_checks_the_email_verification():
    checked, missing = [], []
    for route, view_class in api_views():
        for method in WRITE_METHODS:
            if (
                not hasattr(view_class, method)
                or (view_class.__name__, method) in VERIFICATION_EXEMPT
            ):
                continue
            checked.append((route, method))
            if not any(isinstance(p, EmailVerified) for p in permissions_for(view_class, method)):
                missing.append(f"{method.upper()} {route} ({view_class.__name__})")
    assert missing == []
    assert len(checked) >= 12, checked


def test_the_exemptions_name_real_views():
    # A renamed view must not leave a stale exemption behind (nor exempt its successor).
    views = {
        (view_class.__name__, method)
        for _, view_class in api_views()
        for method in WRITE_METHODS
        if hasattr(view_class, method)
    }
    assert EXEMPT - views == set()
    assert VERIFICATION_EXEMPT - views == set()


def test_the_default_permissions_check_it_too():
    from django.conf import settings

    defaults = settings.REST_FRAMEWORK["DEFAULT_PERMISSION_CLASSES"]
    assert "accounts.permissions.NotSuspended" in defaults
    assert "accounts.permissions.EmailVerified" in defaults
