"""Django's createsuperuser with the API's username rule: no name that looks like
another account's (accounts.usernames). Without it, a look-alike name passes Django's
own check and the unique skeleton fails the save with a database error."""

from django.contrib.auth.management.commands.createsuperuser import Command as DjangoCommand

from accounts.models import User
from accounts.usernames import username_skeleton


class Command(DjangoCommand):
    def _validate_username(self, username, verbose_field_name, database):
        error = super()._validate_username(username, verbose_field_name, database)
        if error:
            return error
        skeleton = username_skeleton(username)
        if User.objects.db_manager(database).filter(username_skeleton=skeleton).exists():
            return f"Error: that {verbose_field_name}, or one that looks like it, is taken."
        return None
