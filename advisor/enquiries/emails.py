"""Emails about enquiries, sent by a task: the advisers' notification of a new enquiry, and an adviser's
reply to the learner (written on the reply page, advisor/inbox/replies.py; saved by services.reply).

Each email is an EmailDelivery row created together with a `send_email` task of Django's Tasks framework.
The default backend, django-tasks-db's DatabaseBackend, stores the task as a row in the caller's transaction:
an enquiry that rolls back leaves neither, one that commits always has both, on SQLite and PostgreSQL alike,
and every app server shares the one queue. `manage.py db_worker` runs the tasks.

The advisers' email carries the enquiry reference, the plan it is about (in the plan page's words, from
pathways.presenter) and a link to it in admin, never the learner's contact details. The task's arguments
are the delivery's id and nothing else: task rows are kept, and shown in admin.

Sent once, as far as SMTP allows. The task claims its row with a conditional UPDATE before it sends (rowcount
1 = ours, for LEASE) and records sent_at as soon as the mail server has taken the message (before it even
says goodbye), so a task that runs again finds the row sent, or claimed, and does nothing. The one gap SMTP
leaves: a worker killed after the server took the message and before sent_at is written (a database round
trip) sends it again on the retry, with the same Message-ID and subject.

Retries: Django's Tasks have none built in. A failed attempt is recorded on the row (attempts, the error's
type and code) and, in the same transaction, the task enqueues itself again with run_after = now + backoff
(1, 2, 4 ... minutes, at most an hour), up to NOTIFY_MAX_ATTEMPTS; then the row is given up, which the
inbox shows. Each failed attempt is also a failed task result (DeliveryFailed) in admin.

Only a failure that trying again could mend is retried: a mail server's temporary refusal (4xx), a connection
refused, dropped or timed out. A permanent one is given up at once with its reason (permanent_reason): the mail
server's permanent refusal (5xx: of the recipients, the sender or the message), a reply whose learner's details
were removed (anonymised), an advisers' email with no ADVISER_EMAILS to send it to. Retrying those for six hours
only hid them.

Nobody sending: with no worker running, tasks wait and nothing fails. stalled() says when emails have waited for a
worker longer than EMAIL_WORKER_ALERT_MINUTES with no worker taking any: the inbox shows it as a banner.

A worker killed mid-task (SIGKILL, out of memory) leaves its task "running" for ever: django-tasks-db has no
heartbeat. `manage.py requeue_stalled_emails`, from cron, gives every delivery whose task is lost a new one.
"""

import logging
import smtplib
from dataclasses import dataclass
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import mail
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Max, Q
from django.tasks import TaskResultStatus, task
from django.urls import reverse
from django.utils import dateformat, timezone
from django_tasks_db.models import DBTaskResult, get_date_max

from advisor.enquiries.models import EmailDelivery, Enquiry, EnquiryNote
from pathways import presenter

log = logging.getLogger("advisor.notifications")

LEASE = timedelta(minutes=5)  # far longer than one SMTP conversation (each step times out after 10 s)
MAX_BACKOFF = timedelta(hours=1)


class DeliveryFailed(Exception):
    """An attempt failed. Its message names the error's type and code, never its text (which can hold an
    address), so the task result admin shows carries nothing personal."""


class WorkerLost(Exception):
    """The worker running the task stopped before it finished (killed, out of memory, machine lost)."""


class PermanentFailure(Exception):
    """This email can never go as it is. Its message is the reason advisers read, never personal data."""


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failure, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _smtp_code(exc: Exception) -> int | None:
    """The mail server's reply code, where it gave one; for recipients refused, the lowest of theirs (a single
    temporary refusal among them makes the whole attempt worth repeating)."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        codes = [code for code, _ in exc.recipients.values() if isinstance(code, int)]
        return min(codes, default=None)
    code = getattr(exc, "smtp_code", None)
    return code if isinstance(code, int) else None


def _describe(exc: Exception) -> str:
    """The error without its message text: a type and a code is enough to diagnose, and leaks nothing."""
    code = _smtp_code(exc) or getattr(exc, "errno", None)
    return f"{type(exc).__name__}{f' ({code})' if code else ''}"[:200]


def permanent_reason(exc: Exception) -> str | None:
    """Why a failed attempt can never succeed, in words for advisers (nothing personal), or None when a later try
    may: a temporary refusal (4xx), a connection refused, dropped or timed out, anything unexpected."""
    if isinstance(exc, PermanentFailure):
        return str(exc)[:200]
    if (code := _smtp_code(exc)) is not None and code >= 500:
        # RFC 5321: a 5yz reply is a permanent failure, and the same request should not be repeated.
        return f"Refused for good by the mail server: {_describe(exc)}"[:200]
    return None


# --- Queueing ---------------------------------------------------------------------------------------------------


def queue(enquiry: Enquiry, reply: EnquiryNote | None = None) -> EmailDelivery:
    """Create an email to send and its task, in the caller's transaction."""
    delivery = EmailDelivery.objects.create(enquiry=enquiry, reply=reply)
    _enqueue(delivery.pk)
    return delivery


def _enqueue(delivery_id: int, run_after=None) -> None:
    result = (send_email.using(run_after=run_after) if run_after else send_email).enqueue(delivery_id)
    EmailDelivery.objects.filter(pk=delivery_id).update(task_id=result.id)


# --- The message ------------------------------------------------------------------------------------------------


def build_message(delivery: EmailDelivery) -> EmailMessage:
    # An adviser's reply to the learner goes through the same task and retries as the advisers' notification.
    message = reply_message(delivery) if delivery.reply_id else _adviser_message(delivery.enquiry)
    # The same on every attempt, so a message that goes out twice can be told (and, by most mail stores, shown)
    # as one.
    message.extra_headers["Message-ID"] = f"<email-{delivery.pk}.{delivery.enquiry.reference}@{_mail_domain()}>"
    return message


def _mail_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def _adviser_message(enquiry: Enquiry) -> EmailMessage:
    link = settings.SITE_URL + reverse("admin:advisor_enquiry_change", args=[enquiry.pk])
    plan = presenter.summary_lines(enquiry.plan_snapshot)
    about = (
        ("The plan they asked about:\n" + "\n".join(plan) + "\n\n") if plan else "A general enquiry, with no plan.\n\n"
    )
    body = (
        f"A learner has sent enquiry {enquiry.reference}.\n\n"
        f"{about}"
        f"Open it in the advisers' inbox (you will be asked to sign in):\n{link}\n\n"
        "This email deliberately contains no personal details.\n"
    )
    return EmailMessage(
        subject=f"New enquiry {enquiry.reference}",
        body=body,
        to=settings.ADVISER_EMAILS,
        headers={"X-Enquiry-Reference": enquiry.reference},
    )


# The note an adviser's reply is saved as begins with this header; the email is built from the note.
REPLY_NOTE_HEADER = "Emailed to the learner.\nSubject: "


def reply_note(subject: str, body: str) -> str:
    return f"{REPLY_NOTE_HEADER}{subject}\n\n{body}"


def reply_message(delivery: EmailDelivery) -> EmailMessage:
    """The email for a reply, from its note. Raises if the note or the learner's address was removed."""
    enquiry = delivery.enquiry
    header, _, body = delivery.reply.text.partition("\n\n")
    if not header.startswith(REPLY_NOTE_HEADER) or not enquiry.email:
        raise PermanentFailure("The learner's details were removed (anonymised): there is nobody to send it to")
    operator_email = settings.OPERATOR.get("email")
    return EmailMessage(
        subject=header.removeprefix(REPLY_NOTE_HEADER),
        body=body,
        to=[enquiry.email],
        reply_to=[operator_email] if operator_email else None,
        headers={"X-Enquiry-Reference": enquiry.reference},
    )


# --- The task ---------------------------------------------------------------------------------------------------


@task
def send_email(delivery_id: int) -> str:
    """Send one email, once. Raises DeliveryFailed when the attempt fails (a retry is queued unless given up: at
    once for a permanent failure, else after NOTIFY_MAX_ATTEMPTS)."""
    now = timezone.now()
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    mine = EmailDelivery.objects.filter(unclaimed, pk=delivery_id, sent_at=None, gave_up_at=None)
    if not mine.update(claimed_until=now + LEASE):
        return "nothing to do"  # sent already, given up, or another run of the task is sending it
    delivery = EmailDelivery.objects.select_related("enquiry", "reply").get(pk=delivery_id)
    extra = {"delivery_id": delivery_id, "enquiry_id": delivery.enquiry_id}
    sent = False
    try:
        if not delivery.reply_id and not settings.ADVISER_EMAILS:
            # (A system check warns of it, advisor/enquiries/checks.py; the enquiry is in the inbox all the same.)
            raise PermanentFailure("No adviser address to send it to: ADVISER_EMAILS is empty")
        message = build_message(delivery)
        mailer = mail.mailers.default
        # Connected first, and the goodbye to the mail server (QUIT) only once sent_at is written: the gap in
        # which a killed worker would send the email twice is as short as it can be.
        with mailer:
            if mailer.send_messages([message]) != 1:
                raise smtplib.SMTPException("the mail server took nothing")
            EmailDelivery.objects.filter(pk=delivery_id).update(
                attempts=delivery.attempts + 1, sent_at=timezone.now(), claimed_until=None, last_error=""
            )
            sent = True
    except Exception as exc:
        if not sent:  # (once sent, a failing goodbye changes nothing)
            reason = permanent_reason(exc)
            error = reason or _describe(exc)
            gave_up = _record_failure(delivery, error, permanent=reason is not None)
            log.warning(
                "notification failed",
                extra={**extra, "attempts": delivery.attempts + 1, "error": error, "permanent": reason is not None},
            )
            # From None: the original exception's text (an address, say) stays out of the stored traceback.
            raise DeliveryFailed(f"{error}; {'given up' if gave_up else 'a retry is queued'}") from None
    log.info("notification sent", extra=extra)
    return "sent"


def _record_failure(delivery: EmailDelivery, error: str, *, permanent: bool = False) -> bool:
    """The attempt, and the next one queued after the backoff, in one transaction. True when given up: at once
    for a permanent failure, else on the last attempt allowed."""
    attempts = delivery.attempts + 1
    failed_at = timezone.now()
    gave_up = permanent or attempts >= settings.NOTIFY_MAX_ATTEMPTS
    with transaction.atomic():
        EmailDelivery.objects.filter(pk=delivery.pk).update(
            attempts=attempts, last_error=error, claimed_until=None, gave_up_at=failed_at if gave_up else None
        )
        if not gave_up:
            _enqueue(delivery.pk, run_after=failed_at + backoff(attempts))
    return gave_up


# --- Lost tasks -------------------------------------------------------------------------------------------------


def requeue_stalled(now=None) -> int:
    """Give every email still to send whose task is lost a new task; returns how many.

    Lost: its task has been running for longer than LEASE (the worker died; its result is marked failed,
    WorkerLost, so admin stops showing it as running), or finished without sending, or is gone.
    """
    now = now or timezone.now()
    lost = DBTaskResult.objects.running().filter(task_path=send_email.module_path, started_at__lt=now - LEASE)
    for result in lost:
        result.set_failed(WorkerLost("The worker stopped before the task finished; the email was queued again."))
    alive = DBTaskResult.objects.filter(
        Q(status=TaskResultStatus.READY) | Q(status=TaskResultStatus.RUNNING, started_at__gte=now - LEASE)
    )
    unclaimed = Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    stalled = EmailDelivery.objects.filter(unclaimed, sent_at=None, gave_up_at=None).exclude(
        task_id__in=alive.values("id")
    )
    count = 0
    for delivery_id in stalled.values_list("pk", flat=True):
        with transaction.atomic():
            _enqueue(delivery_id)
        log.warning("notification requeued", extra={"delivery_id": delivery_id})
        count += 1
    return count


# --- Is anyone sending? -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stalled:
    """Emails waiting for a task worker that none has taken: what the inbox's banner says."""

    waiting: int  # emails due for longer than EMAIL_WORKER_ALERT_MINUTES
    last_sent_at: datetime | None  # when any worker last sent any email

    def message(self, now=None) -> str:
        if self.last_sent_at is None:
            since = "No task worker has sent any email yet"
        else:
            when = timezone.localtime(self.last_sent_at)
            today = when.date() == timezone.localdate(now or timezone.now())
            since = f"No task worker has sent email since {dateformat.format(when, 'H:i' if today else 'j M Y H:i')}"
        minutes = settings.EMAIL_WORKER_ALERT_MINUTES
        waiting = "1 email has" if self.waiting == 1 else f"{self.waiting} emails have"
        return (
            f"{since}: start one with make worker (or the coding-pathways-worker service). {waiting} waited "
            f"more than {minutes} minute{'' if minutes == 1 else 's'} to go out."
        )


def stalled(now=None) -> Stalled | None:
    """Emails that have been due for longer than EMAIL_WORKER_ALERT_MINUTES while no worker took any task in that
    time (no worker is running, or none can reach the database); None when all is well. A worker that takes a task
    clears it at once; one working through a long queue is taking tasks, so it does not count as stalled. An email
    waiting out its backoff after a failure is not due, so a mail server that is down never shows here (the
    inbox's "failed or not sent yet" filter finds those). Three queries at most."""
    now = now or timezone.now()
    cutoff = now - timedelta(minutes=settings.EMAIL_WORKER_ALERT_MINUTES)
    tasks = DBTaskResult.objects.filter(task_path=send_email.module_path)
    # Due since run_after, or since it was queued when it had none (django-tasks-db stores "none" as its date max).
    due_long_ago = tasks.filter(status=TaskResultStatus.READY).filter(
        Q(run_after__lt=cutoff) | Q(run_after=get_date_max(), enqueued_at__lt=cutoff)
    )
    waiting = EmailDelivery.objects.filter(sent_at=None, gave_up_at=None, task_id__in=due_long_ago.values("id"))
    if not (count := waiting.count()) or tasks.filter(started_at__gte=cutoff).exists():
        return None
    return Stalled(count, EmailDelivery.objects.aggregate(last=Max("sent_at"))["last"])
