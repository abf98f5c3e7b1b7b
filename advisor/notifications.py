"""Adviser notifications, sent from the outbox at least once.

The email carries the enquiry reference, the plan it is about (in the plan page's words, from
pathways.presenter) and a link to it in admin, never the learner's contact details: a mail server, a
forwarded email or an error message can then leak nothing personal.

A row is claimed with a conditional UPDATE (rowcount 1 = ours), which works the same on SQLite and
PostgreSQL and holds no lock while the SMTP conversation runs. On PostgreSQL the batch is also picked
with SELECT ... FOR UPDATE SKIP LOCKED, so several workers never wait on each other.
"""

import logging
import smtplib
from datetime import timedelta

from django.conf import settings
from django.core.mail import EmailMessage
from django.db import connection, transaction
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone

from advisor.models import NotificationOutbox
from pathways import presenter

log = logging.getLogger("advisor.notifications")

LEASE = timedelta(minutes=5)  # a worker that dies mid-send frees its row after this
MAX_BACKOFF = timedelta(hours=1)


def backoff(attempts: int) -> timedelta:
    """1, 2, 4, 8 ... minutes after each failure, at most an hour."""
    return min(timedelta(minutes=2 ** max(attempts - 1, 0)), MAX_BACKOFF)


def _due(now) -> Q:
    return Q(sent_at__isnull=True, gave_up_at__isnull=True, next_attempt_at__lte=now) & (
        Q(claimed_until__isnull=True) | Q(claimed_until__lt=now)
    )


def _claim(outbox_id: int, now) -> bool:
    return NotificationOutbox.objects.filter(_due(now), pk=outbox_id).update(claimed_until=now + LEASE) == 1


def claim_due(limit: int = 50, now=None) -> list[int]:
    """Claim up to `limit` rows that are due; returns their ids."""
    now = now or timezone.now()
    with transaction.atomic():
        rows = NotificationOutbox.objects.filter(_due(now)).order_by("next_attempt_at", "pk")
        if connection.features.has_select_for_update_skip_locked:
            rows = rows.select_for_update(skip_locked=True)
        ids = list(rows.values_list("pk", flat=True)[:limit])
        NotificationOutbox.objects.filter(pk__in=ids).update(claimed_until=now + LEASE)
    return ids


def _describe(exc: Exception) -> str:
    """The error without its message text: a type and a code is enough to diagnose, and leaks nothing."""
    code = getattr(exc, "smtp_code", None) or getattr(exc, "errno", None)
    return f"{type(exc).__name__}{f' ({code})' if code else ''}"[:200]


def build_message(outbox: NotificationOutbox) -> EmailMessage:
    if outbox.reply_id:
        # An adviser's reply to the learner (advisor/replies.py): same outbox, same retries.
        from advisor import replies

        return replies.build_reply_message(outbox)
    enquiry = outbox.enquiry
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


def _send(outbox_id: int, now) -> bool:
    """Send one claimed row. True when it went out."""
    outbox = NotificationOutbox.objects.select_related("enquiry", "reply").get(pk=outbox_id)
    try:
        if not outbox.reply_id and not settings.ADVISER_EMAILS:
            raise smtplib.SMTPRecipientsRefused({})  # nobody to tell: keep it pending, visible in admin
        build_message(outbox).send()  # raises on failure: the row stays pending for a retry
    except Exception as exc:
        attempts = outbox.attempts + 1
        gave_up = attempts >= settings.NOTIFY_MAX_ATTEMPTS
        NotificationOutbox.objects.filter(pk=outbox_id).update(
            attempts=attempts,
            last_error=_describe(exc),
            next_attempt_at=now + backoff(attempts),
            claimed_until=None,
            gave_up_at=now if gave_up else None,
        )
        extra = {"outbox_id": outbox_id, "enquiry_id": outbox.enquiry_id, "attempts": attempts}
        log.warning("notification failed", extra={**extra, "error": _describe(exc)})
        return False
    # Set straight after the send: a crash in between means at most one duplicate email,
    # which the reference in the subject makes harmless.
    NotificationOutbox.objects.filter(pk=outbox_id).update(
        attempts=outbox.attempts + 1, sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    log.info("notification sent", extra={"outbox_id": outbox_id, "enquiry_id": outbox.enquiry_id})
    return True


def deliver(outbox_id: int) -> bool:
    """Try to send one notification now (called after the enquiry commits). Never raises."""
    now = timezone.now()
    try:
        return _claim(outbox_id, now) and _send(outbox_id, now)
    except Exception:
        # The request that saved the enquiry must not fail because of this; the worker retries.
        log.exception("notification delivery crashed", extra={"outbox_id": outbox_id})
        return False


def send_due(limit: int = 50, now=None) -> tuple[int, int]:
    """Send every due notification once; returns (sent, failed)."""
    now = now or timezone.now()
    sent = failed = 0
    for outbox_id in claim_due(limit, now):
        if _send(outbox_id, now):
            sent += 1
        else:
            failed += 1
    return sent, failed
