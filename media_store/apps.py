from django.apps import AppConfig
from django.core.exceptions import ImproperlyConfigured


class MediaStoreConfig(AppConfig):
    name = "media_store"
    verbose_name = "Photos"

    def ready(self):
        from config.health import register_check
        from media_store import signals  # noqa: F401
        from media_store.storage import storage_health

        register_check("storage", storage_health)

        _check_settings()


def _check_settings() -> None:
    """Values env_int cannot judge alone; a bad one stops start-up with its name."""
    from django.conf import settings

    from media_store.constants import THUMBNAIL_FORMATS

    if settings.IMAGE_THUMBNAIL_FORMAT not in THUMBNAIL_FORMATS:
        raise ImproperlyConfigured(
            f"IMAGE_THUMBNAIL_FORMAT={settings.IMAGE_THUMBNAIL_FORMAT!r}: use WEBP or JPEG."
        )
    if not settings.IMAGE_THUMBNAIL_SIZES or min(settings.IMAGE_THUMBNAIL_SIZES) < 16:
        raise ImproperlyConfigured("IMAGE_THUMBNAIL_SIZES needs sizes of at least 16 px.")
    for name in ("IMAGE_JPEG_QUALITY", "IMAGE_WEBP_QUALITY"):
        if not 1 <= getattr(settings, name) <= 100:
            raise ImproperlyConfigured(f"{name} must be within 1..100.")
    if not 0 <= settings.IMAGE_PNG_COMPRESS_LEVEL <= 9:
        raise ImproperlyConfigured("IMAGE_PNG_COMPRESS_LEVEL must be within 0..9.")
