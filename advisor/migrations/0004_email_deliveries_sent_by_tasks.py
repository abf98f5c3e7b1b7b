"""The notification outbox becomes the record of each email sent by a task (advisor/notifications.py).

Its rows are kept, with their attempts and results. The queue itself now lives in django-tasks-db's table, so
the outbox's own scheduling column goes, and each row notes the task that sends it. Emails still waiting when
this runs have no task yet: `manage.py requeue_stalled_emails` (run it once after migrating, then from cron)
gives them one.
"""

from django.db import migrations, models
import django.db.models.deletion


class Migration(migrations.Migration):

    dependencies = [
        ('advisor', '0003_dashboard_funnel_replies'),
    ]

    operations = [
        migrations.RenameModel(old_name='NotificationOutbox', new_name='EmailDelivery'),
        migrations.AlterModelOptions(
            name='emaildelivery',
            options={'verbose_name': 'email delivery', 'verbose_name_plural': 'email deliveries'},
        ),
        migrations.RemoveField(model_name='emaildelivery', name='next_attempt_at'),
        migrations.AddField(
            model_name='emaildelivery',
            name='task_id',
            field=models.UUIDField(blank=True, editable=False, null=True),
        ),
        migrations.AlterField(
            model_name='emaildelivery',
            name='enquiry',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='emails', to='advisor.enquiry'),
        ),
    ]
