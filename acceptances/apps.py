from django.apps import AppConfig
from django.db.models.signals import post_migrate


class AcceptancesConfig(AppConfig):
    name = "acceptances"
    verbose_name = "Risk treatment"

    def ready(self) -> None:
        # The scan side names hooks (findings.hooks) and never imports this app: answer them.
        from acceptances import hooks
        from acceptances.zone_upgrade import reevaluate_after_migrate

        hooks.fulfil()
        # Zones stored under an older meaning of zone rules are re-evaluated on deploy.
        post_migrate.connect(reevaluate_after_migrate, sender=self)
