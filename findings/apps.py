from django.apps import AppConfig


class FindingsConfig(AppConfig):
    name = "findings"
    verbose_name = "Findings"

    def ready(self) -> None:
        # Register the tasks with the Celery app now: the scan services queue them by name
        # (findings.services.scans._dispatch), since tasks call services and not the reverse.
        from findings import tasks  # noqa: F401
