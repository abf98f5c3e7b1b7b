"""The advisers' own rows: reply templates (enquiries and their notes live in advisor/enquiries)."""

from django.db import models


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
