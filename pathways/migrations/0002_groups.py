"""The two staff groups, so roles are reproducible rather than clicked together by hand.

"Content editors": add/change/delete/view on every reference model, view only on
ReferenceVersion (the loader and admin bump it), nothing else. "Course advisers": view
only on reference data (advisor's own migration adds the enquiry permissions).
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

CONTENT_EDITORS = "Content editors"
COURSE_ADVISERS = "Course advisers"


def _pathways_permissions(apps):
    # Permissions are normally created after migrate (post_migrate); create them now so
    # they can be assigned in the same run, on a fresh database too.
    app_config = apps.get_app_config("pathways")
    app_config.models_module = True
    create_permissions(app_config, apps=apps, verbosity=0)
    app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    return Permission.objects.filter(content_type__app_label="pathways")


def create_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    permissions = _pathways_permissions(apps)
    editors, _ = Group.objects.get_or_create(name=CONTENT_EDITORS)
    editors.permissions.set(
        permissions.exclude(content_type__model="referenceversion")
        | permissions.filter(content_type__model="referenceversion", codename__startswith="view_")
    )
    advisers, _ = Group.objects.get_or_create(name=COURSE_ADVISERS)
    advisers.permissions.add(*permissions.filter(codename__startswith="view_"))


def remove_groups(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    Group.objects.filter(name=CONTENT_EDITORS).delete()
    for advisers in Group.objects.filter(name=COURSE_ADVISERS):
        advisers.permissions.remove(*Permission.objects.filter(content_type__app_label="pathways"))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("pathways", "0001_initial"),
    ]

    operations = [migrations.RunPython(create_groups, remove_groups)]
