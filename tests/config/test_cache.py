"""The cache backend (config/cache.py): one connection pool and one Redis client per
process and server, whichever cache object (Django makes one per async context, so one
per ASGI request) asks."""

import threading

from django.conf import settings
from django.core.cache import cache

from config.cache import BreakerRedisCache


def _fresh_cache() -> BreakerRedisCache:
    # What Django builds for each new async context from the same settings.
    params = dict(settings.CACHES["default"])
    params.pop("BACKEND")
    return BreakerRedisCache(params.pop("LOCATION"), params)


def test_every_cache_object_of_a_process_shares_one_pool_and_one_client():
    first, second = _fresh_cache(), _fresh_cache()
    client = first._cache.get_client(write=True)
    assert second._cache.get_client(write=True) is client
    assert first._cache.get_client() is client  # one server: reads and writes alike
    assert client.connection_pool is second._cache._get_connection_pool(False)


def test_the_shared_client_answers_from_many_threads():
    errors: list[BaseException] = []

    def use(n: int) -> None:
        try:
            each = _fresh_cache()
            for i in range(20):
                each.set(f"test-cache-shared:{n}:{i}", i, timeout=30)
                assert each.get(f"test-cache-shared:{n}:{i}") == i
        except BaseException as exc:  # reported below, not lost in the thread
            errors.append(exc)

    threads = [threading.Thread(target=use, args=(n,)) for n in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert cache.get("test-cache-shared:5:19") == 19
