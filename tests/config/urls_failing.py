"""URLs for exercising error rendering; included only by tests that ask for them."""

from django.db import connection
from django.urls import include, path
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.permissions import IsModerator


class ExplodingView(APIView):
    def get(self, request):
        raise RuntimeError("secret internal detail")


class DatabaseDownView(APIView):
    def get(self, request):
        # A real statement timeout from the server, not a simulated exception.
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL statement_timeout = 10")
            cursor.execute("SELECT pg_sleep(1)")
        return Response({"unreachable": True})


class ModeratorOnlyView(APIView):
    permission_classes = [IsModerator]

    def get(self, request):
        return Response({"ok": True})


urlpatterns = [
    path("api/v1/test/explode", ExplodingView.as_view()),
    path("api/v1/test/moderators-only", ModeratorOnlyView.as_view()),
    path("api/v1/test/database-down", DatabaseDownView.as_view()),
    path("", include("config.urls")),
]
