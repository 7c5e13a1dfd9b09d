from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Notifications"

    def ready(self):
        # Each app registers the events (and digests) it raises in its own
        # notification_events.py: notifications imports none of them (its own one holds
        # the mails of accounts, which cannot import notifications).
        autodiscover_modules("notification_events")
