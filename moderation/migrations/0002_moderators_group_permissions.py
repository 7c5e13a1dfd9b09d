"""Give the moderators group exactly what the admin moderation console needs.

A staff moderator (is_staff, in the group, not a superuser) can see places and change
them (the approve / reject actions need the change permission; the console itself keeps
every field read-only), see their photos and read the audit trail. Nothing else: no
adding or deleting places, no editing the log.
"""

from django.conf import settings
from django.contrib.auth.management import create_permissions
from django.db import migrations

MODERATOR_PERMISSIONS = [
    ("locations", "view_location"),
    ("locations", "change_location"),
    ("media_store", "view_image"),
    ("moderation", "view_moderationlog"),
]


def _permissions(apps):
    # Permissions are normally created after all migrations ran (post_migrate); on a
    # fresh database they do not exist yet at this point, so create them now.
    for app_label in {app_label for app_label, _ in MODERATOR_PERMISSIONS}:
        app_config = apps.get_app_config(app_label)
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    Permission = apps.get_model("auth", "Permission")
    permissions = []
    for app_label, codename in MODERATOR_PERMISSIONS:
        permissions.append(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return permissions


def grant(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name=settings.MODERATORS_GROUP)
    group.permissions.add(*_permissions(apps))


def revoke(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name=settings.MODERATORS_GROUP).first()
    if group is not None:
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("locations", "0001_initial"),
        ("media_store", "0001_initial"),
        ("moderation", "0001_initial"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
