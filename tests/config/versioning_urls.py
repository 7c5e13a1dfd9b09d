"""Views marked with config.versioning.deprecated, for tests/config/test_versioning.py."""

from datetime import UTC, datetime, timedelta

from django.urls import include, path
from rest_framework.decorators import api_view
from rest_framework.response import Response
from rest_framework.views import APIView

from config.versioning import deprecated

TODAY = datetime.now(UTC).date()  # the middleware compares instants in UTC
SOON = TODAY + timedelta(days=30)
LATER = TODAY + timedelta(days=180)
LONG_AGO = TODAY - timedelta(days=400)
YESTERDAY = TODAY - timedelta(days=2)

calls: list[str] = []


@deprecated(deprecation=LONG_AGO, sunset=LATER)
class OldThingView(APIView):
    def get(self, request):
        calls.append("old-thing")
        return Response({"ok": True})


class MixedView(APIView):
    def get(self, request):
        calls.append("mixed-get")
        return Response({"ok": True})

    @deprecated(deprecation=LONG_AGO, sunset=SOON, link="https://example.test/no-more-delete")
    def delete(self, request):
        calls.append("mixed-delete")
        return Response(status=204)


@deprecated(deprecation=LONG_AGO, sunset=YESTERDAY)
@api_view(["GET"])
def retired_view(request):
    calls.append("retired")
    return Response({"ok": True})


@api_view(["GET"])
def current_view(request):
    response = Response({"ok": True})
    response["Link"] = '</api/v2/current?page=2>; rel="next"'
    return response


v2 = [
    path("old-thing", OldThingView.as_view()),
    path("mixed", MixedView.as_view()),
    path("retired", retired_view),
    path("current", current_view),
]

urlpatterns = [
    path("api/v1/", include(("config.api_router", "api"), namespace="v1")),
    path("api/v2/", include((v2, "api"), namespace="v2")),
]
