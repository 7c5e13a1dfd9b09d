import pytest
from rest_framework.test import APIClient

from media_store.storage import ensure_bucket
from tests.accounts.factories import ModeratorFactory, UserFactory


@pytest.fixture(scope="session", autouse=True)
def s3_bucket():
    """The real S3 endpoint (moto server locally and in CI, MinIO in compose)."""
    ensure_bucket()


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters and cached responses live in Redis: start every test clean.
    # Only our own prefix: a flush would also drop the broker's queues.
    from django.core.cache import cache

    client = cache._cache.get_client(write=True)
    keys = list(client.scan_iter(match=f"{cache.key_prefix}:*", count=1000))
    if keys:
        client.delete(*keys)
    yield


@pytest.fixture
def api_client() -> APIClient:
    return APIClient()


@pytest.fixture
def user(db):
    return UserFactory()


@pytest.fixture
def other_user(db):
    return UserFactory()


@pytest.fixture
def moderator(db):
    return ModeratorFactory()


@pytest.fixture
def user_client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def other_client(other_user) -> APIClient:
    client = APIClient()
    client.force_authenticate(other_user)
    return client


@pytest.fixture
def moderator_client(moderator) -> APIClient:
    client = APIClient()
    client.force_authenticate(moderator)
    return client
