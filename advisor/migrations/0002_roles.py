"""The enquiry side of the role matrix, as data, so every install has the same groups.

- Course advisers: view and change enquiries, add and view notes, export CSV; reference data view-only.
- Privacy officers: view, correct (change + correct_enquiry), delete and export one person's data.
- Content editors: reference data only, so every enquiry permission is taken away from them.

get_or_create throughout: pathways' migration creates some of the same groups, and either may run first.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

ADVISER_PERMS = [
    "view_enquiry",
    "change_enquiry",
    "export_enquiry",
    "view_enquirynote",
    "add_enquirynote",
    "view_historicalenquiry",
]
PRIVACY_PERMS = [
    "view_enquiry",
    "change_enquiry",
    "delete_enquiry",
    "correct_enquiry",
    "export_personal_data",
    "export_enquiry",
    "view_enquirynote",
    "add_enquirynote",
    "delete_enquirynote",
    "view_historicalenquiry",
]


def _ensure_permissions(apps):
    # Permissions are normally created after all migrations run (post_migrate); create them now.
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None


def create_roles(apps, schema_editor):
    _ensure_permissions(apps)
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    reference_view = Permission.objects.filter(content_type__app_label="pathways", codename__startswith="view_")

    advisers, _ = Group.objects.get_or_create(name="Course advisers")
    advisers.permissions.add(*Permission.objects.filter(content_type__app_label="advisor", codename__in=ADVISER_PERMS))
    advisers.permissions.add(*reference_view)

    privacy, _ = Group.objects.get_or_create(name="Privacy officers")
    privacy.permissions.add(*Permission.objects.filter(content_type__app_label="advisor", codename__in=PRIVACY_PERMS))
    privacy.permissions.add(*reference_view)

    editors, _ = Group.objects.get_or_create(name="Content editors")
    editors.permissions.remove(*Permission.objects.filter(content_type__app_label="advisor"))


def remove_roles(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Group.objects.filter(name="Privacy officers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("advisor", "0001_initial"),
        ("pathways", "0002_groups"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_roles, remove_roles)]
