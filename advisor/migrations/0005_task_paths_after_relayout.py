"""advisor.notifications is now advisor.enquiries.emails: the task rows already in the database follow it.

django-tasks-db stores each task's import path (task_path), and a failed result its exception's
(exception_class_path). A db_worker imports task_path to run the task, so an email queued before the upgrade,
or a retry waiting for its time, would fail for good on the old path. Only the three names that module ever
stored are rewritten; the traceback text is left as it was written. Reversible, for a rollback of the code.
"""

from django.db import migrations
from django.db.models import Value
from django.db.models.functions import Replace

OLD, NEW = "advisor.notifications.", "advisor.enquiries.emails."
NAMES = {"task_path": ["send_email"], "exception_class_path": ["DeliveryFailed", "WorkerLost"]}


def _move(apps, old, new):
    DBTaskResult = apps.get_model("django_tasks_database", "DBTaskResult")
    for field, names in NAMES.items():
        DBTaskResult.objects.filter(**{f"{field}__in": [old + name for name in names]}).update(
            **{field: Replace(field, Value(old), Value(new))}
        )


def forward(apps, schema_editor):
    _move(apps, OLD, NEW)


def backward(apps, schema_editor):
    _move(apps, NEW, OLD)


class Migration(migrations.Migration):
    dependencies = [
        ("advisor", "0004_email_deliveries_sent_by_tasks"),
        ("django_tasks_database", "0021_conditional_partial_index_ordering"),
    ]

    operations = [migrations.RunPython(forward, backward)]
