"""Print everything held about one person as JSON (APP 12 access requests; for privacy officers)."""

import json

from django.core.management.base import BaseCommand

from advisor.enquiries import retention


class Command(BaseCommand):
    help = "Print, as JSON, every enquiry, note, consent record and change held for one email address."

    def add_arguments(self, parser):
        parser.add_argument("--email", required=True)

    def handle(self, *args, email, **options):
        self.stdout.write(json.dumps(retention.personal_data(email), indent=2, ensure_ascii=False, default=str))
