"""config.urls plus one view that fails, to see what an unexpected error leaves behind."""

from django.urls import path
from rest_framework.views import APIView

from config.urls import handler400, handler403, handler404, handler500  # noqa: F401
from config.urls import urlpatterns as placemap_urlpatterns


class BrokenView(APIView):
    permission_classes: list = []

    def get(self, request):
        raise RuntimeError("the database said no (password=hunter2-hunter2)")


urlpatterns = [path("api/v1/broken", BrokenView.as_view()), *placemap_urlpatterns]
