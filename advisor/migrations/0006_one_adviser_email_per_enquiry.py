"""One advisers' email per enquiry, held by the database: a partial unique constraint on EmailDelivery.enquiry
where reply is null (an adviser's reply to the learner has its note and is not limited).

Two advisers marking an enquiry not spam at the same moment could each queue the advisers' email before this.
Such doubles are removed first, keeping the one that was sent (else the first queued): the task of a removed row
finds nothing to send. Reversible: back, the constraint goes and the removed doubles stay removed.
"""

from django.db import migrations, models


def remove_doubles(apps, schema_editor):
    EmailDelivery = apps.get_model("advisor", "EmailDelivery")
    advisers = EmailDelivery.objects.filter(reply__isnull=True)
    doubled = advisers.values("enquiry").annotate(count=models.Count("pk")).filter(count__gt=1)
    for enquiry_id in list(doubled.values_list("enquiry", flat=True)):
        rows = advisers.filter(enquiry_id=enquiry_id).order_by(
            models.F("sent_at").asc(nulls_last=True), "created_at", "pk"
        )
        keep = rows.values_list("pk", flat=True).first()
        rows.exclude(pk=keep).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("advisor", "0005_task_paths_after_relayout"),
    ]

    operations = [
        migrations.RunPython(remove_doubles, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="emaildelivery",
            constraint=models.UniqueConstraint(
                condition=models.Q(reply__isnull=True), fields=("enquiry",), name="emaildelivery_one_adviser_email"
            ),
        ),
    ]
