"""Every /api/v1/ route is registered here and nowhere else."""

from django.urls import path, re_path
from drf_spectacular.views import SpectacularAPIView

from accounts.api import views as accounts_views
from config.api_root import ApiRootView
from config.exceptions import api_not_found
from locations.api import export_views, ogc_views, tile_views
from locations.api import views as locations_views
from media_store.api import views as media_store_views
from moderation.api import views as moderation_views

urlpatterns = [
    path("", ApiRootView.as_view(), name="root"),
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    # --- accounts ---
    path("auth/register", accounts_views.RegisterView.as_view(), name="auth-register"),
    path("auth/token", accounts_views.TokenView.as_view(), name="auth-token"),
    path(
        "auth/password/reset",
        accounts_views.PasswordResetView.as_view(),
        name="auth-password-reset",
    ),
    path(
        "auth/password/reset/confirm",
        accounts_views.PasswordResetConfirmView.as_view(),
        name="auth-password-reset-confirm",
    ),
    path(
        "auth/password/change",
        accounts_views.PasswordChangeView.as_view(),
        name="auth-password-change",
    ),
    path(
        "auth/email/verify",
        accounts_views.EmailVerifyView.as_view(),
        name="auth-email-verify",
    ),
    path(
        "auth/email/verify/resend",
        accounts_views.EmailVerifyResendView.as_view(),
        name="auth-email-verify-resend",
    ),
    path("me", accounts_views.MeView.as_view(), name="me"),
    # --- places ---
    path("categories", locations_views.CategoryListView.as_view(), name="categories"),
    path("locations", locations_views.LocationCollectionView.as_view(), name="locations"),
    path("locations/search", locations_views.LocationSearchView.as_view(), name="locations-search"),
    path(
        "locations/duplicates",
        locations_views.LocationDuplicatesView.as_view(),
        name="locations-duplicates",
    ),
    path(
        "locations/viewport",
        locations_views.LocationViewportView.as_view(),
        name="locations-viewport",
    ),
    # --- vector tiles (docs/tiles.md) ---
    # Any text in z/x/y reaches the view, which refuses a bad one with a 400 naming it.
    re_path(
        r"^tiles/(?P<z>[^/]+)/(?P<x>[^/]+)/(?P<y>[^/]+)\.mvt$",
        tile_views.TileView.as_view(),
        name="tile",
    ),
    path("tiles.json", tile_views.TileJSONView.as_view(), name="tilejson"),
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
    path(
        "locations/<uuid:id>/flags",
        moderation_views.LocationFlagView.as_view(),
        name="location-flags",
    ),
    # --- photos ---
    path("images/upload", media_store_views.ImageUploadView.as_view(), name="image-upload"),
    path("images/<uuid:id>", media_store_views.ImageDetailView.as_view(), name="image-detail"),
    path("images/<uuid:id>/flags", moderation_views.ImageFlagView.as_view(), name="image-flags"),
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
    path("admin/images", moderation_views.ImageQueueView.as_view(), name="moderation-images"),
    path(
        "admin/images/<uuid:id>/status",
        moderation_views.ImageStatusView.as_view(),
        name="moderation-image-status",
    ),
    path("admin/flags", moderation_views.FlagQueueView.as_view(), name="moderation-flags"),
    path(
        "admin/flags/<int:id>", moderation_views.FlagResolveView.as_view(), name="moderation-flag"
    ),
    path(
        "admin/locations/<uuid:id>/merge",
        moderation_views.LocationMergeView.as_view(),
        name="moderation-location-merge",
    ),
    path(
        "admin/users/<str:username>/trust",
        moderation_views.UserTrustView.as_view(),
        name="moderation-user-trust",
    ),
    path(
        "admin/users/<str:username>/suspend",
        moderation_views.UserSuspendView.as_view(),
        name="moderation-user-suspend",
    ),
    path(
        "admin/users/<str:username>/unsuspend",
        moderation_views.UserUnsuspendView.as_view(),
        name="moderation-user-unsuspend",
    ),
    # --- GDPR and export ---
    # GDPR: GET /me/export; DELETE /me (erasure) is MeView.delete, routed above.
    path("me/export", accounts_views.MeExportView.as_view(), name="me-export"),
    # export (a fixed word; locations/<uuid:id> above cannot match it)
    path("locations/export", export_views.LocationExportView.as_view(), name="locations-export"),
    # --- OGC API - Features (its own OpenAPI document: ogc/api; not in /schema) ---
    path("ogc", ogc_views.LandingPageView.as_view(), name="ogc-landing-bare"),
    path("ogc/", ogc_views.LandingPageView.as_view(), name="ogc-landing"),
    path("ogc/conformance", ogc_views.ConformanceView.as_view(), name="ogc-conformance"),
    path("ogc/api", ogc_views.ApiDefinitionView.as_view(), name="ogc-api"),
    path("ogc/collections", ogc_views.CollectionsView.as_view(), name="ogc-collections"),
    path(
        "ogc/collections/<str:collection_id>",
        ogc_views.CollectionView.as_view(),
        name="ogc-collection",
    ),
    path(
        "ogc/collections/<str:collection_id>/queryables",
        ogc_views.QueryablesView.as_view(),
        name="ogc-queryables",
    ),
    path(
        "ogc/collections/<str:collection_id>/items",
        ogc_views.ItemsView.as_view(),
        name="ogc-items",
    ),
    path(
        "ogc/collections/<str:collection_id>/items/<str:feature_id>",
        ogc_views.ItemView.as_view(),
        name="ogc-item",
    ),
    # Last: any other path under /api/v1/ is a problem+json 404.
    re_path(r"^.*$", api_not_found, name="not-found"),
]
