"""Personal data on request and on schedule (APP 11.2 retention, APP 12 access).

`personal_data(email)` gathers everything held about one email address; `purge()` anonymises finished
enquiries past the retention period and deletes quarantined spam. Both are shared by the management
commands and the admin.
"""

from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from advisor.enquiries import ratelimit
from advisor.enquiries.models import FINISHED, Enquiry, EnquiryNote

REMOVED = "[removed]"


def _enquiry_record(enquiry: Enquiry) -> dict:
    return {
        "reference": enquiry.reference,
        "received": enquiry.created_at.isoformat(),
        "name": enquiry.name,
        "email": enquiry.email,
        "phone": enquiry.phone,
        "preferred_contact": enquiry.preferred_contact,
        "best_time": enquiry.best_time,
        "message": enquiry.message,
        "information_pack": enquiry.info_pack,
        "plan_parameters": enquiry.plan_params,
        "plan": enquiry.plan_snapshot,
        "reference_data_version": enquiry.reference_version,
        "consent": {
            "collection_notice_version": enquiry.notice_version,
            "contact_consent_at": enquiry.contact_consent_at.isoformat(),
            "marketing_opt_in": enquiry.marketing_opt_in,
            "marketing_consent_at": enquiry.marketing_consent_at.isoformat() if enquiry.marketing_consent_at else None,
        },
        "status": enquiry.status,
        "assigned_to": enquiry.assigned_to.get_username() if enquiry.assigned_to else None,
        "contacted_at": enquiry.contacted_at.isoformat() if enquiry.contacted_at else None,
        "closed_at": enquiry.closed_at.isoformat() if enquiry.closed_at else None,
        "spam": enquiry.is_spam,
        "notes": [
            {
                "written_at": note.created_at.isoformat(),
                "author": note.author.get_username() if note.author else None,
                "text": note.text,
            }
            for note in enquiry.notes.all()
        ],
        "changes": [
            {
                "at": row.history_date.isoformat(),
                "by": row.history_user.get_username() if row.history_user else None,
                "type": row.get_history_type_display(),
                "name": row.name,
                "email": row.email,
                "phone": row.phone,
                "status": row.status,
            }
            for row in enquiry.history.select_related("history_user").order_by("history_date")
        ],
    }


def personal_data(email: str) -> dict:
    """Everything held about one email address (matched without regard to case)."""
    enquiries = (
        Enquiry.objects.filter(email__iexact=email.strip())
        .select_related("assigned_to")
        .prefetch_related("notes__author")
        .order_by("created_at")
    )
    return {
        "email": email.strip(),
        "exported_at": timezone.now().isoformat(),
        "enquiries": [_enquiry_record(enquiry) for enquiry in enquiries],
    }


def anonymise(enquiry: Enquiry, now=None) -> None:
    """Remove the personal details but keep the enquiry's shape (dates, status, plan) for statistics."""
    now = now or timezone.now()
    with transaction.atomic():
        Enquiry.objects.filter(pk=enquiry.pk).update(
            name=REMOVED,
            email="",
            phone="",
            best_time="",
            message="",
            ip_hash="",
            marketing_opt_in=False,
            anonymised_at=now,
        )
        # Advisers' notes and the change history hold the same details.
        EnquiryNote.objects.filter(enquiry=enquiry).update(text=REMOVED)
        Enquiry.history.filter(id=enquiry.pk).delete()


def delete(enquiry: Enquiry) -> None:
    pk = enquiry.pk
    with transaction.atomic():
        enquiry.delete()
        # After the delete: simple-history records the deletion itself, with the details in it.
        Enquiry.history.filter(id=pk).delete()


def purge(now=None) -> dict:
    """Anonymise finished enquiries past retention, delete old spam. Safe to run again and again."""
    now = now or timezone.now()
    retention = now - timedelta(days=settings.ENQUIRY_RETENTION_DAYS)
    spam_retention = now - timedelta(days=settings.ENQUIRY_SPAM_RETENTION_DAYS)
    anonymised = 0
    for enquiry in Enquiry.objects.filter(
        status__in=FINISHED, closed_at__lt=retention, anonymised_at__isnull=True, is_spam=False
    ):
        anonymise(enquiry, now)
        anonymised += 1
    deleted = 0
    for enquiry in Enquiry.objects.filter(is_spam=True, created_at__lt=spam_retention):
        delete(enquiry)
        deleted += 1
    return {"anonymised": anonymised, "spam_deleted": deleted, "rate_counters_deleted": ratelimit.sweep()}
