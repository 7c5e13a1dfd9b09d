"""URLs for exercising error rendering; included only by tests that ask for them."""

from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsModerator


class ExplodingView(APIView):
    def get(self, request):
        raise RuntimeError("secret internal detail")


class ModeratorOnlyView(APIView):
    permission_classes = [IsModerator]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/v1/test/explode", ExplodingView.as_view()),
    path("api/v1/test/moderators-only", ModeratorOnlyView.as_view()),
    path("", include("config.urls")),
]
