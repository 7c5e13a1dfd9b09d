"""Settings for pytest: the real PostGIS, Redis and S3 endpoint, nothing mocked."""

import os

from config.env import env

# base.py has no default secrets; the test services' (as in local.py), unless the
# environment or .env (read by config.env) sets them.
os.environ.setdefault("DATABASE_URL", "postgis://placemap:placemap@127.0.0.1:5432/placemap")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "placemap")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "placemap-secret")

from .base import *  # noqa: F403
from .base import DATABASES

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105 (tests only)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Parallel runs on one machine (several checkouts) keep apart by naming their own
# test database, Redis prefix and bucket.
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_placemap")}
# pytest-django creates and flushes its database through plain connections; no pool.
DATABASES["default"]["OPTIONS"].pop("pool", None)
DATABASES["default"]["CONN_MAX_AGE"] = 0
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# In-process websocket tests (channels' WebsocketCommunicator) come from the test host.
WS_ALLOWED_ORIGINS = [*WS_ALLOWED_ORIGINS, "http://testserver"]

# Tests never touch the development Redis database or bucket.
REDIS_URL = env.str("TEST_REDIS_URL", default="redis://127.0.0.1:6379/9")
CACHES["default"]["LOCATION"] = REDIS_URL
CACHES["default"]["KEY_PREFIX"] = "placemap-test"
CHANNEL_LAYERS["default"]["CONFIG"]["hosts"][0]["address"] = REDIS_URL
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = "placemap-test"
CELERY_BROKER_URL = REDIS_URL
AWS_STORAGE_BUCKET_NAME = env.str("TEST_BUCKET", default="placemap-test")
