"""What the anonymous questionnaire funnel counts: steps per day, never who took them."""

from django.db import models


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
    only ever incremented, in batches, by counting.py.
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
