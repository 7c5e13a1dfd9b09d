from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.selectors import user_active_suspension, user_is_moderator, user_must_verify_email
from accounts.services import suspension_describe
from config.errors import ApplicationError


class IsModerator(BasePermission):
    """Members of the `moderators` group, staff and superusers. Anonymous gets 401."""

    message = "Only moderators may do this."

    def has_permission(self, request, view) -> bool:
        return user_is_moderator(request.user)


class AccountSuspended(ApplicationError):
    """A suspended account tried to write (403 problem+json; the detail gives the
    reason and the end date)."""

    status = 403
    code = "account_suspended"
    default_detail = "Your account is suspended."


class NotSuspended(BasePermission):
    """Refuses every write (any method but GET, HEAD, OPTIONS) of a suspended account
    with 403 naming the reason and the end date; reads pass. Anonymous requests pass
    (the view's other permissions answer them).

    The one suspension check of the API: it is in DEFAULT_PERMISSION_CLASSES and in the
    permission_classes of every view that writes (each view that sets its own list names
    it; tests/accounts/test_suspension_coverage.py walks every route to hold that)."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS:
            return True
        suspension = user_active_suspension(request.user)
        if suspension is None:
            return True
        raise AccountSuspended(suspension_describe(suspension))


class EmailUnverified(ApplicationError):
    """An account whose address is not verified tried to write while verification is
    mandatory (403 problem+json)."""

    status = 403
    code = "email_unverified"
    problem_title = "Verify your email address"
    default_detail = (
        "Verify your email address before you write: open the link we mailed you, or ask "
        "for a new one with POST /api/v1/auth/email/verify/resend."
    )


class EmailVerified(BasePermission):
    """Under ACCOUNT_EMAIL_VERIFICATION=mandatory, refuses every write (any method but
    GET, HEAD, OPTIONS) of a signed-in account whose address is not verified, with 403
    email-unverified; reads pass, anonymous requests pass (the view's other permissions
    answer them), and so does everything under optional and none.

    Beside NotSuspended: in DEFAULT_PERMISSION_CLASSES and in the permission_classes of
    every view that writes, except the ways to verify, sign in and out, recover the
    password, change the profile (PATCH /me: a mistyped address is corrected there) and
    the GDPR erasure (tests/accounts/test_suspension_coverage.py holds the list)."""

    def has_permission(self, request, view) -> bool:
        if request.method in SAFE_METHODS or not user_must_verify_email(request.user):
            return True
        raise EmailUnverified()
