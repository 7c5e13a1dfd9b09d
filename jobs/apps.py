from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from config.health import register_check
        from jobs import (
            checks,  # noqa: F401 - registers the system checks
            signals,  # noqa: F401 - connects the dead-letter receiver
        )
        from jobs.health import check_worker

        register_check("worker", check_worker, advisory=True)
