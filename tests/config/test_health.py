import pytest

pytestmark = pytest.mark.django_db

CLOSED_PORT = "127.0.0.1:9"  # discard port: nothing listens on loopback here


def test_health_answers_without_touching_dependencies(client, settings, django_assert_num_queries):
    for role in ("CACHE_REDIS_URL", "CHANNEL_LAYER_REDIS_URL", "THROTTLE_REDIS_URL"):
        setattr(settings, role, f"redis://{CLOSED_PORT}/0")
    settings.AWS_S3_ENDPOINT_URL = f"http://{CLOSED_PORT}"
    with django_assert_num_queries(0):
        response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


def test_ready_is_200_when_every_dependency_answers(client):
    response = client.get("/ready")
    body = response.json()
    assert response.status_code == 200, body
    assert set(body["checks"]) == {"database", "redis", "storage", "worker"}
    body["checks"].pop("worker")  # no worker runs here: reported, not required (tests/jobs)
    for check in body["checks"].values():
        assert check["status"] == "ok"
        assert check["latency_ms"] >= 0


def test_ready_is_503_naming_redis_when_redis_is_down(client, settings):
    # One Redis for every role (the default): one check, "redis".
    for role in ("CACHE_REDIS_URL", "CHANNEL_LAYER_REDIS_URL", "THROTTLE_REDIS_URL"):
        setattr(settings, role, f"redis://{CLOSED_PORT}/0")
    settings.CELERY_BROKER_URL = f"redis://{CLOSED_PORT}/0"
    response = client.get("/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["redis"]["status"] == "error"
    assert body["checks"]["database"]["status"] == "ok"
    assert response["Retry-After"]


def test_ready_is_503_naming_storage_when_storage_is_down(client, settings):
    settings.AWS_S3_ENDPOINT_URL = f"http://{CLOSED_PORT}"
    response = client.get("/ready")
    body = response.json()
    assert response.status_code == 503
    assert body["checks"]["storage"]["status"] == "error"
    assert body["checks"]["redis"]["status"] == "ok"
