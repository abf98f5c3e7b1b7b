"""Enquiries from learners, the advisers' notes on them, their emails and the rate-limit counters.

Rows and the rules that read one row or one queryset (the workflow, the overdue rule); the actions that write
several rows together (submit, mark not spam, reply) are in services.py.
"""

from datetime import timedelta

from django.conf import settings
from django.db import models
from django.utils import timezone
from simple_history.models import HistoricalRecords


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


class EnquiryQuerySet(models.QuerySet):
    def overdue(self, now=None):
        """Still new after the promised business days: the inbox's filter, the dashboard and the queue count these."""
        return self.filter(overdue_condition(now))

    def not_overdue(self, now=None):
        return self.exclude(overdue_condition(now))


def overdue_condition(now=None) -> models.Q:
    """The overdue rule as a condition, for counting in the database (Count(filter=...))."""
    cutoff = add_business_days(timezone.localtime(now or timezone.now()), -settings.ENQUIRY_RESPONSE_BUSINESS_DAYS)
    return models.Q(status=Status.NEW, is_spam=False, created_at__lt=cutoff)


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
    objects = EnquiryQuerySet.as_manager()

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


# django-simple-history names the app's package ("advisor") as the module of a history model defined outside the
# app's models.py; it lives here, where `manage.py shell` and a reader look for it.
HistoricalEnquiry = Enquiry.history.model
HistoricalEnquiry.__module__ = __name__


class EnquiryNote(models.Model):
    enquiry = models.ForeignKey(Enquiry, on_delete=models.CASCADE, related_name="notes")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", editable=False
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    text = models.TextField(max_length=4000)
    # Set for an adviser's reply by email: the id the reply form carried (advisor/inbox/replies.py), unique, so a
    # double click or a resubmission of the same form stores one note and sends one email (services.reply), as
    # Enquiry.submission_id does for the learner's form. Empty for notes typed on the enquiry page.
    submission_id = models.UUIDField(null=True, blank=True, unique=True, editable=False)

    class Meta:
        ordering = ["created_at"]

    def __str__(self):
        return f"Note on {self.enquiry_id} at {self.created_at:%Y-%m-%d %H:%M}"


class EmailDelivery(models.Model):
    """One email to send: the advisers' notification of an enquiry, or an adviser's reply to the learner.

    A task of Django's Tasks framework sends it (emails.py); this row is what it did: how
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
    # Never personal data: the exception type and a code, nothing from the message; for an email given up at once
    # (emails.permanent_reason), why it cannot go, first.
    last_error = models.CharField(max_length=200, blank=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    gave_up_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        verbose_name = "email delivery"
        verbose_name_plural = "email deliveries"
        # Oldest first, wherever an enquiry's emails are listed (the last one is the latest).
        ordering = ["created_at", "pk"]
        constraints = [
            # The advisers hear about an enquiry once: two advisers marking it not spam at the same moment (or a
            # retried action) cannot both queue the email. services.mark_not_spam relies on it.
            models.UniqueConstraint(
                fields=["enquiry"], condition=models.Q(reply__isnull=True), name="emaildelivery_one_adviser_email"
            )
        ]

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
