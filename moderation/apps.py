from django.apps import AppConfig


class ModerationConfig(AppConfig):
    name = "moderation"
    verbose_name = "Moderation"

    def ready(self):
        # Every submission and owner's edit is scored, and a trusted submitter's new
        # place approved (docs/moderation.md "Trust tiers", "Spam score").
        from locations.submission_hooks import register_submission_hook
        from moderation.services import submission_review

        register_submission_hook(submission_review)
