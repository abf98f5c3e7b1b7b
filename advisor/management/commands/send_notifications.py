"""Send the advisers' notification emails waiting in the outbox.

Run it from cron every minute, or as a worker with --loop. Rows that fail are retried with
exponential backoff; a row is sent at most once per successful attempt.
"""

import signal
import time

from django.core.management.base import BaseCommand

from advisor import notifications


class Command(BaseCommand):
    help = "Send pending adviser notifications (with --loop, keep doing it)."

    def add_arguments(self, parser):
        parser.add_argument("--loop", action="store_true", help="Keep running, checking every --sleep seconds.")
        parser.add_argument("--sleep", type=float, default=10.0, help="Seconds between checks with --loop.")
        parser.add_argument("--batch", type=int, default=50, help="At most this many emails per check.")

    def handle(self, *args, loop=False, sleep=10.0, batch=50, **options):
        self.stopping = False
        if loop:
            # Finish the current batch on SIGTERM/SIGINT rather than dying mid-send.
            signal.signal(signal.SIGTERM, self._stop)
            signal.signal(signal.SIGINT, self._stop)
        while True:
            sent, failed = notifications.send_due(limit=batch)
            if sent or failed or not loop:
                self.stdout.write(f"sent {sent}, failed {failed}")
            if not loop or self.stopping:
                break
            if sent + failed < batch:
                time.sleep(sleep)

    def _stop(self, *args):
        self.stopping = True
