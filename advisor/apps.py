from django.apps import AppConfig


class AdvisorConfig(AppConfig):
    name = "advisor"
    verbose_name = "Enquiries"

    def ready(self):
        # Registers the email set-up check (tag "advisor").
        from advisor.enquiries import checks  # noqa: F401
