from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ConsoleAdminConfig(admin_apps.AdminConfig):
    """In INSTALLED_APPS instead of django.contrib.admin: admin.site is the moderation
    console's site (moderation/console.py)."""

    default = False  # moderation's own config is ModerationConfig
    default_site = "moderation.console.ConsoleSite"


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self):
        # Every submission and owner's edit is scored, and a trusted submitter's new
        # place approved (docs/moderation.md "Trust tiers", "Spam score").
        from locations.submission_hooks import register_submission_hook
        from media_store.targets import register_attached_hook
        from moderation.services import image_attached_review, submission_review

        register_submission_hook(submission_review)
        register_attached_hook(image_attached_review)
