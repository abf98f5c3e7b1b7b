from django.apps import AppConfig


class PathwaysConfig(AppConfig):
    name = "pathways"
    verbose_name = "Reference data"

    def ready(self):
        # Registers the reference-data integrity check (tag "pathways").
        from pathways import checks  # noqa: F401
