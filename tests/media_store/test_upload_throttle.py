"""Uploads are rate limited per user (THROTTLE_UPLOADS), on the project's one throttle
family: fixed windows counted in Redis, failing open."""

import pytest
from django.conf import settings
from django.test import override_settings

from media_store.api.throttles import UploadRateThrottle
from media_store.models import Image
from tests.media_store import samples

pytestmark = pytest.mark.django_db


def _rates(uploads: str) -> dict:
    return {
        **settings.REST_FRAMEWORK,
        "DEFAULT_THROTTLE_RATES": {
            **settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"],
            "uploads": uploads,
        },
    }


def test_it_refuses_the_upload_past_the_rate_with_retry_after(upload, other_client):
    with override_settings(REST_FRAMEWORK=_rates("2/hour")):
        assert upload(samples.webp()).status_code == 201
        assert upload(samples.webp()).status_code == 201
        refused = upload(samples.webp())
        theirs = upload(samples.webp(), client=other_client)

    assert refused.status_code == 429
    assert refused["Content-Type"] == "application/problem+json"
    assert 1 <= int(refused["Retry-After"]) <= 3600
    assert theirs.status_code == 201  # counted per user
    assert Image.objects.count() == 3


def test_the_upload_throttle_is_the_fixed_window_family():
    from config.throttling import FixedWindowRateThrottle

    assert issubclass(UploadRateThrottle, FixedWindowRateThrottle)
    assert UploadRateThrottle.scope == "uploads"
