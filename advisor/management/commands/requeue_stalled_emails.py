"""Queue again the emails whose task was lost: what `db_worker` itself never does.

django-tasks-db leaves a task "running" for ever when its worker is killed mid-task (SIGKILL, out of memory,
a machine lost). Run this from cron every few minutes: every email still to send whose task has been running
for longer than the lease (5 minutes), or finished without sending it, gets a new task. Sending stays once
only: the new task finds the email sent, or claimed, and leaves it alone.
"""

from django.core.management.base import BaseCommand

from advisor.enquiries import emails


class Command(BaseCommand):
    help = "Give emails whose task was lost (its worker died) a new task."

    def handle(self, *args, **options):
        self.stdout.write(f"requeued {emails.requeue_stalled()}")
