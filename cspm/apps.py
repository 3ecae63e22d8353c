from django.apps import AppConfig


class CspmConfig(AppConfig):
    name = "cspm"

    def ready(self) -> None:
        # Connects the per-request reset of the cache's "found down" flag before any request,
        # not at the cache's first use (which comes after its first request has started).
        from cspm import cache  # noqa: F401
