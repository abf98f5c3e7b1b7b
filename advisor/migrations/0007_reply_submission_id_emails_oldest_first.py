"""A reply by email is stored once: EnquiryNote.submission_id, the id each reply form carries, unique in the
database (notes typed on the enquiry page leave it empty, and empty values never clash). And an enquiry's emails
are listed oldest first (EmailDelivery's default ordering, no schema change)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("advisor", "0006_one_adviser_email_per_enquiry"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="emaildelivery",
            options={
                "ordering": ["created_at", "pk"],
                "verbose_name": "email delivery",
                "verbose_name_plural": "email deliveries",
            },
        ),
        migrations.AddField(
            model_name="enquirynote",
            name="submission_id",
            field=models.UUIDField(blank=True, editable=False, null=True, unique=True),
        ),
    ]
