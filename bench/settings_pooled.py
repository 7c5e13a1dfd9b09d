"""Production settings plus psycopg's connection pool, for the benchmark's comparison run.

Under ASGI, Django runs each request's sync code in a fresh thread context, so
CONN_MAX_AGE does not keep connections: every request opens (and authenticates) a new
PostgreSQL connection. Django 5.1+ can hold a psycopg_pool per process instead
(https://docs.djangoproject.com/en/5.2/ref/databases/#connection-pool); this module is
how bench/run_places.py --settings bench.settings_pooled measures what that is worth.
"""

from config.settings.production import *  # noqa: F403
from config.settings.production import DATABASES

# Pooling replaces persistent connections; Django refuses both at once.
DATABASES["default"]["CONN_MAX_AGE"] = 0
DATABASES["default"]["OPTIONS"]["pool"] = {"min_size": 2, "max_size": 4, "timeout": 10}
