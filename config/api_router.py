"""Every /api/v1/ route is registered here and nowhere else."""

from django.urls import path
from drf_spectacular.views import SpectacularAPIView

from accounts.api import views as accounts_views

urlpatterns = [
    path("schema", SpectacularAPIView.as_view(), name="schema"),
    # --- accounts ---
    path("auth/register", accounts_views.RegisterView.as_view(), name="auth-register"),
    path("auth/token", accounts_views.TokenView.as_view(), name="auth-token"),
    path("me", accounts_views.MeView.as_view(), name="me"),
    # --- places ---
    # --- photos ---
    # --- moderation ---
    # --- GDPR and export ---
]
