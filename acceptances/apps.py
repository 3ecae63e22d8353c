from django.apps import AppConfig


class AcceptancesConfig(AppConfig):
    name = "acceptances"
    verbose_name = "Risk treatment"
