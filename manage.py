#!/usr/bin/env python
import os
import sys


def main():
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")
    if sys.argv[1:2] != ["runserver"]:
        # DB_LOCK_TIMEOUT_MS and DB_QUERY_DEADLINE are for processes serving requests:
        # migrate's DDL and the bulk commands wait for their locks and queries as long as
        # they need.
        os.environ["DB_LOCK_TIMEOUT_MS"] = "0"
        os.environ["DB_QUERY_DEADLINE"] = "0"
    from django.core.management import execute_from_command_line

    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
