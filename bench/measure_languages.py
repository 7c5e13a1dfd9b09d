"""Issue 18: what Django's LocaleMiddleware would cost the hot reads, and what reading the
categories per request would cost (docs/benchmarks.md "Languages").

Run on the test database (pytest-django builds it), with the test isolation names:

    TEST_DATABASE_NAME=test_x TEST_REDIS_URL=redis://127.0.0.1:6379/11 TEST_BUCKET=placemap-test-x \
        .venv/bin/pytest -n 0 -p no:cacheprovider -s bench/measure_languages.py

ROUNDS and PER (environment) set how many alternating rounds of how many viewport
requests each configuration gets (default 20 x 30).
"""

import os
import statistics
import time

import pytest
from django.conf import settings
from django.contrib.gis.geos import Point
from django.test import Client, override_settings

from tests.accounts.factories import UserFactory
from tests.locations.factories import LocationFactory

URL = "/api/v1/locations/viewport?bbox=13.3,52.4,13.5,52.6"


@pytest.mark.django_db
def test_viewport_with_and_without_locale_middleware():
    import random

    user = UserFactory()
    rng = random.Random(1)
    for _ in range(300):
        LocationFactory(
            submitter=user,
            approved=True,
            point=Point(13.3 + rng.random() * 0.2, 52.4 + rng.random() * 0.2, srid=4326),
        )
    with_locale = list(settings.MIDDLEWARE)
    with_locale.insert(
        with_locale.index("django.contrib.sessions.middleware.SessionMiddleware") + 1,
        "django.middleware.locale.LocaleMiddleware",
    )
    plain = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.8")
    r = plain.get(URL)
    assert r.status_code == 200 and len(r.json()["features"]) == 300
    print("plain Vary:", r.get("Vary"), "Content-Language:", r.get("Content-Language"))
    with override_settings(MIDDLEWARE=with_locale):
        locale = Client(HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.8")
        r = locale.get(URL)
        print("locale Vary:", r.get("Vary"), "Content-Language:", r.get("Content-Language"))
    times = {"plain": [], "locale": []}
    rounds = int(os.environ.get("ROUNDS", "20"))
    per = int(os.environ.get("PER", "30"))
    for _ in range(5):
        plain.get(URL)
        locale.get(URL)
    for i in range(rounds):
        order = [("plain", plain), ("locale", locale)]
        if i % 2:
            order.reverse()
        for name, client in order:
            for _ in range(per):
                start = time.perf_counter()
                client.get(URL)
                times[name].append((time.perf_counter() - start) * 1000)
    for name, values in times.items():
        q = statistics.quantiles(values, n=20)
        print(
            f"{name}: n={len(values)} median={statistics.median(values):.3f} ms "
            f"p25={statistics.quantiles(values, n=4)[0]:.3f} p75={statistics.quantiles(values, n=4)[2]:.3f} p95={q[18]:.3f}"
        )
    print("loadavg", os.getloadavg())


@pytest.mark.django_db
def test_reading_the_categories_table_and_the_process_copy():
    from locations import categories

    categories._load()
    values = []
    for _ in range(500):
        start = time.perf_counter()
        categories._load()
        values.append((time.perf_counter() - start) * 1000)
    cached = []
    categories.known_slugs()
    for _ in range(500):
        start = time.perf_counter()
        categories.known_slugs()
        cached.append((time.perf_counter() - start) * 1000)
    print(
        f"category table read: median {statistics.median(values):.3f} ms; cached known_slugs {statistics.median(cached) * 1000:.1f} us"
    )
    print("loadavg", os.getloadavg())


def test_locale_middleware_alone():
    from django.http import HttpResponse
    from django.middleware.locale import LocaleMiddleware
    from django.test import RequestFactory
    from django.utils import translation

    rf = RequestFactory()
    response = HttpResponse(b"x")
    mw = LocaleMiddleware(lambda request: response)
    noop = lambda request: response  # noqa: E731
    runs = {"noop": [], "locale": []}
    for _ in range(200):
        mw(rf.get("/api/v1/locations/viewport", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.8"))
    for _ in range(20):
        for name, fn in (("noop", noop), ("locale", mw)):
            requests = [
                rf.get("/api/v1/locations/viewport", HTTP_ACCEPT_LANGUAGE="de-DE,de;q=0.9,en;q=0.8")
                for _ in range(500)
            ]
            start = time.perf_counter()
            for request in requests:
                fn(request)
            runs[name].append((time.perf_counter() - start) / 500 * 1e6)
    translation.deactivate()
    print(
        f"middleware alone: noop {statistics.median(runs['noop']):.1f} us, LocaleMiddleware {statistics.median(runs['locale']):.1f} us per request"
    )
    print("loadavg", os.getloadavg())
