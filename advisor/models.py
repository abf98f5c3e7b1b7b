"""Enquiries from learners, the advisers' notes on them, their emails and the rate-limit counters.

An enquiry is the source of truth: it is written in the same transaction as its email delivery and the task
that sends it (advisor/notifications.py), so a crash or a mail server that is down can delay the advisers'
email but never lose the enquiry.
"""

import secrets
from datetime import timedelta

from django.conf import settings
from django.db import IntegrityError, models, transaction
from django.utils import timezone
from simple_history.models import HistoricalRecords

# No 0/O, 1/I/L or U: a reference read out over the phone cannot be misheard.
REFERENCE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
REFERENCE_LENGTH = 6


def new_reference() -> str:
    return "E-" + "".join(secrets.choice(REFERENCE_ALPHABET) for _ in range(REFERENCE_LENGTH))


class ContactMethod(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone"


class Status(models.TextChoices):
    NEW = "new", "New"
    CONTACTED = "contacted", "Contacted"
    FOLLOW_UP = "follow_up", "Follow-up"
    ENROLLED = "enrolled", "Enrolled"
    CLOSED = "closed", "Closed"


# The advisers' workflow. Closing is allowed from every open state (wrong number, duplicate,
# not interested); enrolled and closed are final.
TRANSITIONS = {
    Status.NEW: {Status.CONTACTED, Status.CLOSED},
    Status.CONTACTED: {Status.FOLLOW_UP, Status.ENROLLED, Status.CLOSED},
    Status.FOLLOW_UP: {Status.CONTACTED, Status.ENROLLED, Status.CLOSED},
    Status.ENROLLED: set(),
    Status.CLOSED: set(),
}
FINISHED = (Status.ENROLLED, Status.CLOSED)
# The order of the inbox: what needs someone first.
STATUS_RANK = {Status.NEW: 0, Status.FOLLOW_UP: 1, Status.CONTACTED: 2, Status.ENROLLED: 3, Status.CLOSED: 4}


class TransitionError(ValueError):
    pass


def add_business_days(start, days: int):
    """`start` moved by `days` working days (Monday to Friday); negative days go back."""
    current, step = start, (1 if days >= 0 else -1)
    remaining = abs(days)
    while remaining > 0:
        current += timedelta(days=step)
        if current.weekday() < 5:
            remaining -= 1
    return current


class EnquiryManager(models.Manager):
    def submit(self, *, submission_id, spam_reason: str = "", **fields) -> tuple["Enquiry", bool]:
        """Save an enquiry and queue its notification in one transaction; (enquiry, created).

        The unique submission id makes this idempotent: a double click, a retry or Back-and-resubmit
        sends the same id and gets the enquiry the first request saved. The unique constraint, not a
        "look then insert", decides, so it holds under concurrent requests too.
        """
        from advisor import notifications

        # The enquiry view has looked for the submission id already (before the rate limit): no second
        # look here; a resubmission fails the constraint and is found below.
        now = timezone.now()
        for _ in range(5):
            try:
                with transaction.atomic():
                    enquiry = self.create(
                        submission_id=submission_id,
                        reference=new_reference(),
                        created_at=now,
                        is_spam=bool(spam_reason),
                        spam_reason=spam_reason,
                        **fields,
                    )
                    if not enquiry.is_spam:
                        # The task is a row in this same transaction: no enquiry without it, nor it without one.
                        notifications.queue(enquiry)
                return enquiry, True
            except IntegrityError:
                if existing := self.filter(submission_id=submission_id).first():
                    return existing, False
                # Otherwise the random reference collided: draw another one.
        raise IntegrityError("Could not allocate a unique enquiry reference")


class Enquiry(models.Model):
    reference = models.CharField(max_length=12, unique=True, editable=False)
    submission_id = models.UUIDField(unique=True, editable=False)
    created_at = models.DateTimeField("received", default=timezone.now, db_index=True, editable=False)

    # As submitted by the learner.
    name = models.CharField(max_length=200)
    email = models.EmailField(max_length=254)
    phone = models.CharField(max_length=20, blank=True, help_text="E.164, e.g. +61412345678")
    preferred_contact = models.CharField(max_length=10, choices=ContactMethod.choices)
    best_time = models.CharField("best time to call", max_length=100, blank=True)
    message = models.TextField(max_length=2000, blank=True)
    info_pack = models.CharField(
        "information pack requested", max_length=40, blank=True, help_text="Code of the credential, if requested."
    )

    # What the learner saw, frozen: later edits to the reference data never change it.
    plan_params = models.JSONField("plan parameters", default=dict, blank=True)
    plan_snapshot = models.JSONField(default=dict, blank=True)
    reference_version = models.CharField("reference-data version", max_length=64, blank=True)
    origin_code = models.CharField("origin", max_length=10, blank=True)
    destination_code = models.CharField("destination", max_length=10, blank=True)

    # Consent (APP 5 notice, contact consent, separate marketing opt-in).
    notice_version = models.CharField("collection-notice version", max_length=20)
    contact_consent_at = models.DateTimeField("consent to contact given")
    marketing_opt_in = models.BooleanField(default=False)
    marketing_consent_at = models.DateTimeField(null=True, blank=True)

    # Abuse controls. Only a keyed hash of the IP is kept, never the address.
    is_spam = models.BooleanField("spam", default=False, db_index=True)
    spam_reason = models.CharField(max_length=40, blank=True)
    ip_hash = models.CharField(max_length=64, blank=True, editable=False)

    # Handling by advisers.
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.NEW, db_index=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="enquiries"
    )
    contacted_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    anonymised_at = models.DateTimeField(null=True, blank=True)

    history = HistoricalRecords(excluded_fields=["ip_hash"])
    objects = EnquiryManager()

    class Meta:
        verbose_name_plural = "enquiries"
        ordering = ["-created_at"]
        permissions = [
            ("export_enquiry", "Can export enquiries to CSV"),
            ("correct_enquiry", "Can correct the details a learner submitted"),
            ("export_personal_data", "Can export everything held about one person"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(status__in=Status.values), name="enquiry_status_valid"),
        ]

    def __str__(self):
        return self.reference

    @property
    def due_by(self):
        """When an adviser should have made contact: two business days after it arrived."""
        days = getattr(settings, "ENQUIRY_RESPONSE_BUSINESS_DAYS", 2)
        return add_business_days(timezone.localtime(self.created_at), days)

    @property
    def is_overdue(self) -> bool:
        return self.status == Status.NEW and not self.is_spam and timezone.now() > self.due_by

    def can_transition(self, new_status) -> bool:
        return new_status == self.status or new_status in TRANSITIONS[Status(self.status)]

    def transition_to(self, new_status, *, now=None):
        """Move along the workflow, recording when contact was made or the enquiry was finished."""
        if not self.can_transition(new_status):
            raise TransitionError(
                f"An enquiry cannot go from {Status(self.status).label} to {Status(new_status).label}."
            )
        now = now or timezone.now()
        if new_status == Status.CONTACTED and not self.contacted_at:
            self.contacted_at = now
        if new_status in FINISHED and not self.closed_at:
            self.closed_at = now
        self.status = new_status

    def mark_not_spam(self):
        """A false positive: out of quarantine, and the advisers hear about it like any other enquiry."""
        from advisor import notifications

        self.is_spam = False
        self.spam_reason = ""
        with transaction.atomic():
            self.save()
            if not self.emails.filter(reply__isnull=True).exists():
                notifications.queue(self)


class EnquiryNote(models.Model):
    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    text = models.TextField(max_length=4000)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Note on {self.enquiry_id} at {self.created_at:%Y-%m-%d %H:%M}"


class EmailDelivery(models.Model):
    """One email to send: the advisers' notification of an enquiry, or an adviser's reply to the learner.

    A task of Django's Tasks framework sends it (advisor/notifications.py); this row is what it did: how
    many attempts, the last error, sent or given up. It is also the guard that keeps a task that runs twice
    from sending twice.
    """

    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="emails")
    created_at = models.DateTimeField(default=timezone.now)
    # Set for an adviser's reply to the learner (the note holds its text); empty for the advisers' own email.
    reply = models.OneToOneField(
        EnquiryNote, null=True, blank=True, on_delete=models.CASCADE, related_name="email", editable=False
    )
    # The task that will send it (a django-tasks-db task result): only an id, never an address.
    task_id = models.UUIDField(null=True, blank=True, editable=False)
    # An attempt is under way until then: another run of the task leaves the row alone meanwhile.
    claimed_until = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    # Never personal data: the exception type and a code, nothing from the message.
    last_error = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "email delivery"
        verbose_name_plural = "email deliveries"

    def __str__(self):
        return f"Email {self.pk} for enquiry {self.enquiry_id}"


class RateLimitBucket(models.Model):
    """A fixed-window hit counter shared by every worker process (one row per key and window)."""

    key = models.CharField(max_length=100)
    window = models.BigIntegerField(help_text="Start of the window, in seconds since the epoch.")
    hits = models.PositiveIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["key", "window"], name="ratelimit_key_window_unique")]

    def __str__(self):
        return f"{self.key} @ {self.window}: {self.hits}"


class FunnelStep(models.TextChoices):
    """The questionnaire's steps, in the order a learner meets them."""

    START = "start", "Start page viewed"
    ORIGIN = "origin", "Answered: where you trained"
    CREDENTIALS = "credentials", "Answered: what you hold"
    EXPERIENCE = "experience", "Answered: setting and experience"
    DESTINATION = "destination", "Answered: where you want to work"
    CHECK = "check", "Check answers reached"
    PLAN = "plan", "Plan viewed"
    ENQUIRY_FORM = "enquiry_form", "Enquiry form opened"
    ENQUIRY_SENT = "enquiry_sent", "Enquiry sent"


class FunnelCount(models.Model):
    """How many times one step of the questionnaire happened on one day, and nothing about who.

    No visitor, session, address or time of day: a row is (day, step, the plan's countries, hits). Rows are
    only ever incremented, in batches, by advisor/funnel.py.
    """

    day = models.DateField()
    step = models.CharField(max_length=20, choices=FunnelStep.choices)
    # Plans only: the country codes of the move viewed ("none" for someone not trained yet), else blank.
    origin = models.CharField(max_length=4, blank=True, default="")
    destination = models.CharField(max_length=4, blank=True, default="")
    hits = models.PositiveBigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["day", "step", "origin", "destination"], name="funnelcount_unique")
        ]
        permissions = [("view_dashboard", "Can see the service dashboard and the questionnaire funnel")]

    def __str__(self):
        return f"{self.day} {self.step} {self.origin}-{self.destination}: {self.hits}"


class ReplyTemplate(models.Model):
    """A starting point for an adviser's email reply to a learner, for one destination or for any."""

    name = models.CharField(max_length=100, unique=True)
    destination_code = models.CharField(
        "destination",
        max_length=10,
        blank=True,
        help_text="Leave blank for a general template, offered on every enquiry.",
    )
    subject = models.CharField(max_length=200)
    body = models.TextField(
        max_length=4000,
        help_text="Placeholders: {learner_name}, {adviser_name}, {plan_summary}, {reference}, {destination}.",
    )

    class Meta:
        ordering = ["destination_code", "name"]

    def __str__(self):
        return self.name
