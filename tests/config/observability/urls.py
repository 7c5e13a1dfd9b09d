"""config.urls plus one view that fails, to see what an unexpected error leaves behind."""

from django.http import JsonResponse
from django.urls import path
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as placemap_urlpatterns


class BrokenView(APIView):
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("the database said no (password=hunter2-hunter2)")


def broken_plain_view(request):
    """A plain Django view: its exception reaches Django's handler, not DRF's."""
    raise RuntimeError("the cache said no (password=hunter2-hunter2)")


def echo_request_id_view(request):
    return JsonResponse({"header": request.headers.get("X-Request-ID")})


urlpatterns = [
    path("api/v1/broken", BrokenView.as_view()),
    path("api/v1/broken-plain", broken_plain_view),
    path("api/v1/echo-request-id", echo_request_id_view),
    *placemap_urlpatterns,
]
