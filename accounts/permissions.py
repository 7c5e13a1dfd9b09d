from rest_framework.permissions import SAFE_METHODS, BasePermission

from accounts.selectors import user_active_suspension, user_is_moderator
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
