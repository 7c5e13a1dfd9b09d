"""Deprecating API endpoints and whole versions (policy: docs/api-versioning.md).

Two ways to mark something deprecated, both read by DeprecationMiddleware:
- a whole version, in settings: API_DEPRECATIONS = {"v1": {"deprecation": "2027-01-01",
  "sunset": "2027-07-01"}} (every path under /api/v1/);
- one endpoint, with the `deprecated(...)` decorator on a view function, an APIView
  class or one of its handler methods (then only that HTTP method is deprecated).

Responses then carry `Deprecation: @<unix seconds>` (RFC 9745), `Sunset: <HTTP-date>`
(RFC 8594) and `Link: <policy>; rel="deprecation"`. From the sunset on, the endpoint
answers 410 Gone (problem+json) without running the view.
"""

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.http import http_date

from config.exceptions import problem_response

VERSION_IN_PATH = re.compile(r"^/api/(?P<version>v\d+)/")
ATTRIBUTE = "api_deprecation"


@dataclass(frozen=True)
class Deprecation:
    deprecation: datetime
    sunset: datetime | None = None
    link: str | None = None

    def merged_with(self, other: "Deprecation | None") -> "Deprecation":
        """Endpoint and version both deprecated: the earlier dates win."""
        if other is None:
            return self
        sunsets = [s for s in (self.sunset, other.sunset) if s is not None]
        return Deprecation(
            deprecation=min(self.deprecation, other.deprecation),
            sunset=min(sunsets) if sunsets else None,
            link=self.link or other.link,
        )


def _moment(value, *, what: str) -> datetime:
    """A date means its first instant in UTC; datetimes must be timezone-aware."""
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value) if "T" in value else date.fromisoformat(value)
        except ValueError:
            raise ImproperlyConfigured(f"{what}: {value!r} is not an ISO 8601 date.") from None
    if isinstance(value, datetime):
        if timezone.is_naive(value):
            raise ImproperlyConfigured(f"{what}: {value!r} must be timezone-aware.")
        return value.astimezone(UTC)
    if isinstance(value, date):
        return datetime.combine(value, time.min, tzinfo=UTC)
    raise ImproperlyConfigured(f"{what}: {value!r} is not a date.")


def make_deprecation(*, deprecation, sunset=None, link: str | None = None, what: str):
    result = Deprecation(
        deprecation=_moment(deprecation, what=f"{what} deprecation"),
        sunset=_moment(sunset, what=f"{what} sunset") if sunset is not None else None,
        link=link,
    )
    if result.sunset is not None and result.sunset < result.deprecation:
        raise ImproperlyConfigured(f"{what}: the sunset comes before the deprecation.")
    return result


def version_deprecations() -> dict[str, Deprecation]:
    """settings.API_DEPRECATIONS, validated; a bad entry fails at start-up."""
    configured = getattr(settings, "API_DEPRECATIONS", {}) or {}
    if not isinstance(configured, dict):
        raise ImproperlyConfigured("API_DEPRECATIONS must be a dict of version -> dates.")
    result = {}
    for version, entry in configured.items():
        what = f"API_DEPRECATIONS[{version!r}]"
        if not re.fullmatch(r"v\d+", str(version)):
            raise ImproperlyConfigured(f"{what}: versions are named v1, v2, ...")
        if not isinstance(entry, dict) or "deprecation" not in entry:
            raise ImproperlyConfigured(f"{what} needs at least a 'deprecation' date.")
        unknown = set(entry) - {"deprecation", "sunset", "link"}
        if unknown:
            raise ImproperlyConfigured(f"{what}: unknown keys {sorted(unknown)}.")
        result[version] = make_deprecation(
            deprecation=entry["deprecation"],
            sunset=entry.get("sunset"),
            link=entry.get("link"),
            what=what,
        )
    return result


def deprecated(*, deprecation, sunset=None, link: str | None = None):
    """Mark a view function, an APIView class or one handler method deprecated.

    @deprecated(deprecation=date(2027, 1, 1), sunset=date(2027, 7, 1))
    class OldThingView(APIView): ...
    """
    info = make_deprecation(deprecation=deprecation, sunset=sunset, link=link, what="@deprecated")

    def mark(target):
        setattr(target, ATTRIBUTE, info)
        return target

    return mark


def _endpoint_deprecation(view_func, method: str) -> Deprecation | None:
    """The most specific mark: the handler method, then the view class, then the view
    function itself (a function view, or `deprecated` applied around `api_view`)."""
    view_class = getattr(view_func, "cls", None) or getattr(view_func, "view_class", None)
    if view_class is not None:
        handler = getattr(view_class, method.lower(), None)
        for owner in (handler, view_class):
            found = getattr(owner, ATTRIBUTE, None)
            if found is not None:
                return found
    return getattr(view_func, ATTRIBUTE, None)


class DeprecationMiddleware:
    """Adds Deprecation/Sunset/Link headers to deprecated endpoints and versions; answers
    410 Gone once their sunset has passed."""

    def __init__(self, get_response):
        self.get_response = get_response
        version_deprecations()  # a misconfiguration fails when the app starts

    def __call__(self, request):
        match = VERSION_IN_PATH.match(request.path_info)
        version_info = version_deprecations().get(match["version"]) if match else None
        # Version-wide: decided before URL resolution, so a retired version's unknown
        # paths are 410 too rather than 404.
        request._api_version_deprecation = version_info
        if version_info is not None and self._is_past_sunset(version_info):
            return self._gone(request, version_info, scope=f"API {match['version']}")
        response = self.get_response(request)
        info = getattr(request, "_api_deprecation", None) or version_info
        if info is not None:
            self._decorate(response, info)
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        endpoint_info = _endpoint_deprecation(view_func, request.method)
        if endpoint_info is None:
            return None
        info = endpoint_info.merged_with(request._api_version_deprecation)
        request._api_deprecation = info
        if self._is_past_sunset(info):
            return self._gone(request, info, scope="This endpoint")
        return None

    @staticmethod
    def _is_past_sunset(info: Deprecation) -> bool:
        return info.sunset is not None and timezone.now() >= info.sunset

    def _gone(self, request, info: Deprecation, *, scope: str):
        response = problem_response(
            request,
            status_code=410,
            detail=f"{scope} was retired on {info.sunset.date().isoformat()}; "
            f"see {info.link or settings.API_DEPRECATION_POLICY_URL} for its replacement.",
            code="gone",
        )
        self._decorate(response, info)
        return response

    @staticmethod
    def _decorate(response, info: Deprecation) -> None:
        response["Deprecation"] = f"@{int(info.deprecation.timestamp())}"
        if info.sunset is not None:
            response["Sunset"] = http_date(info.sunset.timestamp())
        link = f'<{info.link or settings.API_DEPRECATION_POLICY_URL}>; rel="deprecation"'
        if response.has_header("Link"):
            # Pagination or other relations already use Link: add ours, keep theirs.
            link = f"{response['Link']}, {link}"
        response["Link"] = link
