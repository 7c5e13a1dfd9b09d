"""Every /api/v1/ route is registered here and nowhere else."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from accounts.api import views as accounts_views
from config.exceptions import api_not_found
from locations.api import export_views
from locations.api import views as locations_views
from media_store.api import views as media_store_views
from moderation.api import views as moderation_views

urlpatterns = [
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    # --- accounts ---
    path("auth/register", accounts_views.RegisterView.as_view(), name="auth-register"),
    path("auth/token", accounts_views.TokenView.as_view(), name="auth-token"),
    path("me", accounts_views.MeView.as_view(), name="me"),
    # --- places ---
    path("categories", locations_views.CategoryListView.as_view(), name="categories"),
    path("locations", locations_views.LocationCollectionView.as_view(), name="locations"),
    path("locations/search", locations_views.LocationSearchView.as_view(), name="locations-search"),
    path(
        "locations/viewport",
        locations_views.LocationViewportView.as_view(),
        name="locations-viewport",
    ),
    # <uuid:id> so that fixed words (search, viewport, export) never reach this view.
    path(
        "locations/<uuid:id>", locations_views.LocationDetailView.as_view(), name="location-detail"
    ),
    path(
        "locations/<uuid:id>/revisions",
        locations_views.LocationRevisionsView.as_view(),
        name="location-revisions",
    ),
    path("me/locations", locations_views.MyLocationsView.as_view(), name="me-locations"),
    # --- photos ---
    path("images/upload", media_store_views.ImageUploadView.as_view(), name="image-upload"),
    path("images/<uuid:id>", media_store_views.ImageDetailView.as_view(), name="image-detail"),
    # --- moderation ---
    path(
        "admin/locations",
        moderation_views.ModerationQueueView.as_view(),
        name="moderation-queue",
    ),
    path(
        "admin/locations/<uuid:id>/status",
        moderation_views.LocationStatusView.as_view(),
        name="moderation-location-status",
    ),
    path(
        "admin/locations/<uuid:id>/revert",
        moderation_views.LocationRevertView.as_view(),
        name="moderation-location-revert",
    ),
    path(
        "admin/locations/<uuid:id>/log",
        moderation_views.LocationModerationLogView.as_view(),
        name="moderation-location-log",
    ),
    # --- GDPR and export ---
    # GDPR: GET /me/export; DELETE /me (erasure) is MeView.delete, routed above.
    path("me/export", accounts_views.MeExportView.as_view(), name="me-export"),
    # export (a fixed word; locations/<uuid:id> above cannot match it)
    path("locations/export", export_views.LocationExportView.as_view(), name="locations-export"),
    # Last: any other path under /api/v1/ (and /api/v1/ itself) is a problem+json 404.
    re_path(r"^.*$", api_not_found, name="not-found"),
]
