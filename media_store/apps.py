from django.apps import AppConfig


class MediaStoreConfig(AppConfig):
    name = "media_store"
    verbose_name = "Photos"

    def ready(self):
        from media_store import signals  # noqa: F401
