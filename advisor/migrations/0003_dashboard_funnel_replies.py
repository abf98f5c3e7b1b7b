"""The advisers' dashboard, the anonymous questionnaire funnel and email replies from admin.

Course advisers get the dashboard (view_dashboard) and keep the reply templates; privacy officers and
content editors get neither. A general reply template is there from the start, to be edited in admin.
"""

import django.db.models.deletion
from django.contrib.auth.management import create_permissions
from django.db import migrations, models

ADVISER_PERMS = [
    "view_dashboard",
    "view_replytemplate",
    "add_replytemplate",
    "change_replytemplate",
    "delete_replytemplate",
]
GENERAL_REPLY = """Dear {learner_name},

Thank you for your enquiry ({reference}). This is the plan you were looking at:

{plan_summary}

I would be glad to talk you through it and the courses that fit. Reply to this email, or tell us a good time to call.

Kind regards,
{adviser_name}
"""


def grant(apps, schema_editor):
    # Permissions are normally created after all migrations run (post_migrate); create them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    advisers, _ = Group.objects.get_or_create(name="Course advisers")
    advisers.permissions.add(*Permission.objects.filter(content_type__app_label="advisor", codename__in=ADVISER_PERMS))
    apps.get_model("advisor", "ReplyTemplate").objects.get_or_create(
        name="General reply", defaults={"subject": "Your enquiry {reference}", "body": GENERAL_REPLY}
    )


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Permission.objects.filter(content_type__app_label="advisor", codename__in=ADVISER_PERMS).delete()


class Migration(migrations.Migration):

    dependencies = [
        ('advisor', '0002_roles'),
        ('auth', '0012_alter_user_first_name_max_length'),
        ('contenttypes', '0002_remove_content_type_name'),
    ]

    operations = [
        migrations.CreateModel(
            name='ReplyTemplate',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=100, unique=True)),
                ('destination_code', models.CharField(blank=True, help_text='Leave blank for a general template, offered on every enquiry.', max_length=10, verbose_name='destination')),
                ('subject', models.CharField(max_length=200)),
                ('body', models.TextField(help_text='Placeholders: {learner_name}, {adviser_name}, {plan_summary}, {reference}, {destination}.', max_length=4000)),
            ],
            options={
                'ordering': ['destination_code', 'name'],
            },
        ),
        migrations.AddField(
            model_name='notificationoutbox',
            name='reply',
            field=models.OneToOneField(blank=True, editable=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='email', to='advisor.enquirynote'),
        ),
        migrations.CreateModel(
            name='FunnelCount',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('day', models.DateField()),
                ('step', models.CharField(choices=[('start', 'Start page viewed'), ('origin', 'Answered: where you trained'), ('credentials', 'Answered: what you hold'), ('experience', 'Answered: setting and experience'), ('destination', 'Answered: where you want to work'), ('check', 'Check answers reached'), ('plan', 'Plan viewed'), ('enquiry_form', 'Enquiry form opened'), ('enquiry_sent', 'Enquiry sent')], max_length=20)),
                ('origin', models.CharField(blank=True, default='', max_length=4)),
                ('destination', models.CharField(blank=True, default='', max_length=4)),
                ('hits', models.PositiveBigIntegerField(default=0)),
            ],
            options={
                'permissions': [('view_dashboard', 'Can see the service dashboard and the questionnaire funnel')],
                'constraints': [models.UniqueConstraint(fields=('day', 'step', 'origin', 'destination'), name='funnelcount_unique')],
            },
        ),
        migrations.RunPython(grant, revoke),
    ]
