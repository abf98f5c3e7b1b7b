"""Apply the retention schedule: run it daily (APP 11.2)."""

from django.core.management.base import BaseCommand

from advisor.enquiries import retention


class Command(BaseCommand):
    help = (
        "Anonymise enquiries closed more than ENQUIRY_RETENTION_DAYS ago and delete quarantined spam "
        "older than ENQUIRY_SPAM_RETENTION_DAYS. Safe to run repeatedly."
    )

    def handle(self, *args, **options):
        counts = retention.purge()
        self.stdout.write(", ".join(f"{key.replace('_', ' ')}: {value}" for key, value in counts.items()))
