"""Settings for pytest: the real PostGIS, Redis and S3 endpoint, nothing mocked."""

import os

from config.env import env

# base.py has no default secrets; the test services' (as in local.py), unless the
# environment or .env (read by config.env) sets them.
os.environ.setdefault("DATABASE_URL", "postgis://placemap:placemap@127.0.0.1:5432/placemap")
os.environ.setdefault("AWS_ACCESS_KEY_ID", "placemap")
os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "placemap-secret")
# Tests never touch the development Redis: REDIS_URL is TEST_REDIS_URL, and each role
# (docs/scaling.md) is TEST_<role> if set, else left unset so that base.py falls back to
# REDIS_URL as in production (tests/config/test_redis_roles.py runs them apart).
os.environ["REDIS_URL"] = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/9")
for _role in (
    "CACHE_REDIS_URL",
    "CHANNEL_LAYER_REDIS_URL",
    "THROTTLE_REDIS_URL",
    "CELERY_BROKER_URL",
):
    if os.environ.get(f"TEST_{_role}"):
        os.environ[_role] = os.environ[f"TEST_{_role}"]
    else:
        os.environ.pop(_role, None)

# Replicas are added by the tests that use them (tests/config/test_replicas.py), on the
# streaming standby .ci/replica.sh runs: pytest-django must not try to create a test
# database on a read-only standby.
for _name in ("DATABASE_REPLICA_URLS", "DATABASE_DIRECT_URL", "DB_PGBOUNCER"):
    os.environ.pop(_name, None)

from .base import *  # noqa: E402, F403
from .base import DATABASES  # noqa: E402

DEBUG = False
SECRET_KEY = "test-only-key"  # noqa: S105 (tests only)
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
# Fixed, not from the environment (.env may say mandatory): the suite's accounts come from
# factories and create_user() in many apps; the rule's own tests set each mode
# (tests/accounts/test_email_verification.py).
ACCOUNT_EMAIL_VERIFICATION = "optional"
# Parallel runs on one machine (several checkouts) keep apart by naming their own
# test database, Redis prefix and bucket.
DATABASES["default"]["TEST"] = {"NAME": env.str("TEST_DATABASE_NAME", default="test_placemap")}
# pytest-django creates and flushes its database through plain connections; no pool.
DATABASES["default"]["OPTIONS"].pop("pool", None)
DATABASES["default"]["CONN_MAX_AGE"] = 0
ALLOWED_HOSTS = ["testserver", "127.0.0.1", "localhost"]
# In-process websocket tests (channels' WebsocketCommunicator) come from the test host.
WS_ALLOWED_ORIGINS = [*WS_ALLOWED_ORIGINS, "http://testserver"]

# pytest-xdist runs the suite in several processes (PYTEST_XDIST_WORKER = gw0, gw1, ...;
# pytest-django suffixes the test database itself): each keeps its own Redis keys (cache,
# channel layer, storage breaker, broker queues) and bucket. A child process a test starts
# is given the derived names (TEST_KEY_PREFIX, TEST_BUCKET) by tests.support.child_env.
# A plain `pytest` run (no worker) uses the names as they are.
XDIST_WORKER = env.str("PYTEST_XDIST_WORKER", default="")
TEST_KEY_PREFIX = env.str(
    "TEST_KEY_PREFIX", default=f"placemap-test-{XDIST_WORKER}" if XDIST_WORKER else "placemap-test"
)
CACHES["default"]["KEY_PREFIX"] = TEST_KEY_PREFIX
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = TEST_KEY_PREFIX
# Tests never touch the development bucket either.
AWS_STORAGE_BUCKET_NAME = env.str("TEST_BUCKET", default="placemap-test")
if XDIST_WORKER:
    AWS_STORAGE_BUCKET_NAME = f"{AWS_STORAGE_BUCKET_NAME}-{XDIST_WORKER}"
if TEST_KEY_PREFIX != "placemap-test":
    STORAGE_BREAKER_NAMESPACE = f"{TEST_KEY_PREFIX}-storage"
    # kombu prefixes every broker key (queues, unacked) with it: tests.support.broker_key.
    CELERY_BROKER_TRANSPORT_OPTIONS = {
        **CELERY_BROKER_TRANSPORT_OPTIONS,
        "global_keyprefix": f"{TEST_KEY_PREFIX}:",
    }

# The local streaming standby of the test PostgreSQL (.ci/replica.sh): the test databases
# created on the primary stream to it under the same names.
TEST_DATABASE_REPLICA_URL = env.str(
    "TEST_DATABASE_REPLICA_URL", default="postgis://placemap:placemap@127.0.0.1:5433/"
)
