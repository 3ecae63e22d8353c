from django.apps import AppConfig


class AcceptancesConfig(AppConfig):
    name = "acceptances"
    verbose_name = "Risk treatment"

    def ready(self) -> None:
        # The scan side names hooks (findings.hooks) and never imports this app: answer them.
        from acceptances import hooks

        hooks.fulfil()
