"""What happens to an enquiry, each action in one transaction: a learner submits one, an adviser takes one out
of the spam quarantine, an adviser replies to one by email.

Every email is an EmailDelivery row and its task, written in the same transaction as the enquiry or note it is
about (emails.py): a crash or a mail server that is down can delay an email but never lose the enquiry, and never
leave an email for an enquiry that was not saved.
"""

import secrets

from django.db import IntegrityError, transaction
from django.utils import timezone

from advisor.enquiries import emails
from advisor.enquiries.models import Enquiry, EnquiryNote, Status

# No 0/O, 1/I/L or U: a reference read out over the phone cannot be misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6


def new_reference() -> str:
    return "E-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


def submit(*, submission_id, spam_reason: str = "", **fields) -> tuple[Enquiry, bool]:
    """Save an enquiry and queue its notification in one transaction; (enquiry, created).

    The unique submission id makes this idempotent: a double click, a retry or Back-and-resubmit sends the same
    id and gets the enquiry the first request saved. The unique constraint, not a "look then insert", decides,
    so it holds under concurrent requests too.
    """
    # The enquiry view has looked for the submission id already (before the rate limit): no second look here;
    # a resubmission fails the constraint and is found below.
    now = timezone.now()
    for _ in range(5):
        try:
            with transaction.atomic():
                enquiry = Enquiry.objects.create(
                    submission_id=submission_id,
                    reference=new_reference(),
                    created_at=now,
                    is_spam=bool(spam_reason),
                    spam_reason=spam_reason,
                    **fields,
                )
                if not enquiry.is_spam:
                    # The task is a row in this same transaction: no enquiry without it, nor it without one.
                    emails.queue(enquiry)
            return enquiry, True
        except IntegrityError:
            if existing := Enquiry.objects.filter(submission_id=submission_id).first():
                return existing, False
            # Otherwise the random reference collided: draw another one.
    raise IntegrityError("Could not allocate a unique enquiry reference")


def mark_not_spam(enquiry: Enquiry) -> bool:
    """A false positive: out of quarantine, and the advisers hear about it like any other enquiry, once.

    True when this call queued the advisers' email; False when it was queued already (by another adviser's
    click at the same moment, or long ago). The unique constraint on the advisers' email decides, not a look
    then an insert, so two advisers clicking at once on PostgreSQL still queue one email.
    """
    enquiry.is_spam = False
    enquiry.spam_reason = ""
    with transaction.atomic():
        enquiry.save()
        try:
            with transaction.atomic():  # a savepoint: the enquiry's save above stands if the insert is refused
                emails.queue(enquiry)
        except IntegrityError:
            if not enquiry.emails.filter(reply__isnull=True).exists():
                raise  # some other constraint: not "already notified"
            return False
    return True


def reply(enquiry: Enquiry, adviser, subject: str, body: str, *, submission_id=None) -> tuple[EnquiryNote, bool]:
    """Save an adviser's reply as a note and queue its email; the enquiry moves to contacted (where its status
    allows). The email is built from the note when it is sent (emails.reply_message). (note, created).

    Idempotent as submit() is: the reply form's id is unique on the note, so a double click on "Send reply", or the
    same form sent again, gets the note the first request saved, and one email. The constraint decides, not a look
    then an insert, so two requests at the same moment (on PostgreSQL, two app servers) still store one.
    """
    try:
        with transaction.atomic():
            note = EnquiryNote.objects.create(
                enquiry=enquiry, author=adviser, text=emails.reply_note(subject, body), submission_id=submission_id
            )
            emails.queue(enquiry, reply=note)
            if enquiry.status != Status.CONTACTED and enquiry.can_transition(Status.CONTACTED):
                enquiry.transition_to(Status.CONTACTED)
                enquiry._history_user = adviser
                enquiry.save()
    except IntegrityError:
        if submission_id and (existing := sent_reply(enquiry, submission_id)):
            enquiry.refresh_from_db()  # the status the first request saved, not the one this request changed
            return existing, False
        raise
    return note, True


def sent_reply(enquiry: Enquiry, submission_id) -> EnquiryNote | None:
    """The reply a reply form with this id has already saved on this enquiry, if any."""
    return EnquiryNote.objects.filter(enquiry=enquiry, submission_id=submission_id).first()
