"""Settings of the Placemap server that the schema fuzzing runs against: the test
settings, on the throwaway database (DATABASE_URL), bucket (TEST_BUCKET) and Redis key
prefix (FUZZ_PREFIX) that tests/fuzz/conftest.py creates for the run and removes after."""

from config.env import env
from config.settings.test import *  # noqa: F403
from config.settings.test import CACHES, CELERY_BROKER_TRANSPORT_OPTIONS, CHANNEL_LAYERS

FUZZ_PREFIX = env.str("FUZZ_PREFIX")
CACHES["default"]["KEY_PREFIX"] = FUZZ_PREFIX
CHANNEL_LAYERS["default"]["CONFIG"]["prefix"] = FUZZ_PREFIX
STORAGE_BREAKER_NAMESPACE = f"{FUZZ_PREFIX}-storage"
# No worker consumes these: the prefix keeps them out of the test broker's queue (and the
# fixture deletes them with everything else under the prefix).
CELERY_BROKER_TRANSPORT_OPTIONS["global_keyprefix"] = f"{FUZZ_PREFIX}:"
