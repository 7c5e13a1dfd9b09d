from django.db import migrations, models

from accounts.usernames import username_skeleton


def backfill(apps, schema_editor):
    """The oldest account keeps a skeleton; a later one that already looks like it
    (it could sign up before this check existed) keeps NULL and is listed in the log
    for a person to decide on. A later change of the mapping needs its own backfill."""
    User = apps.get_model("accounts", "User")
    seen: dict[str, str] = {}
    batch = []
    for user in User.objects.order_by("date_joined", "id").only("id", "username").iterator():
        skeleton = username_skeleton(user.username)
        if skeleton in seen:
            print(f"\n  username {user.username!r} looks like {seen[skeleton]!r}: no skeleton")
            continue
        seen[skeleton] = user.username
        user.username_skeleton = skeleton
        batch.append(user)
        if len(batch) >= 1000:
            User.objects.bulk_update(batch, ["username_skeleton"])
            batch = []
    User.objects.bulk_update(batch, ["username_skeleton"])


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="username_skeleton",
            field=models.CharField(editable=False, max_length=600, null=True, unique=True),
        ),
        migrations.RunPython(backfill, migrations.RunPython.noop),
    ]
