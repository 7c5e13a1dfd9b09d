"""One throwaway stack for the fault tests (package scope): a private PostgreSQL cluster,
redis-server and moto S3 server, Placemap under uvicorn and a Celery worker with embedded
beat, all on free loopback ports under one temporary directory, all stopped and removed at
the end (also when a test fails). Each test leaves its dependency running again."""

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest

from tests.faults.harness import (
    S3,
    WARM_SEARCH,
    WARM_VIEWPORT,
    Postgres,
    Redis,
    call,
    run_python,
    tiny_png,
)
from tests.support import BASE_DIR, BIN_DIR, CeleryWorker, ServerProcess, wait_for

BUCKET = "placemap-faults"

SEED = """
import json
import django
django.setup()
from rest_framework.authtoken.models import Token
from accounts.models import User
from accounts.services import moderator_grant
from locations.services import location_create
from moderation.services import location_approve

# Verified: the stack runs production's ACCOUNT_EMAIL_VERIFICATION (mandatory).
user = User.objects.create_user("faultuser", "faultuser@example.org", "a-Long-fault-passw0rd",
                                email_verified=True)
moderator = User.objects.create_user("faultmod", "faultmod@example.org", "a-Long-fault-passw0rd",
                                     email_verified=True)
moderator_grant(user=moderator)
for i in range(5):
    place = location_create(submitter=user, name=f"Seeded place {i}", category="cafe",
                            latitude=48.85 + i / 100, longitude=2.35 + i / 100)
    location_approve(location_id=place.id, moderator=moderator)
print(json.dumps({"user": Token.objects.create(user=user).key,
                  "moderator": Token.objects.create(user=moderator).key}))
"""


@dataclass
class Stack:
    root: Path
    postgres: Postgres
    redis: Redis
    s3: S3
    server: ServerProcess
    worker: CeleryWorker
    env: dict[str, str]
    tokens: dict[str, str]
    png: bytes
    mail_dir: Path

    @property
    def url(self) -> str:
        return self.server.url

    def ready(self) -> "tuple[int | None, dict]":
        answer = call(self.url, "GET", "/ready", timeout=15)
        try:
            return answer.status, answer.json()
        except ValueError:
            return answer.status, {}

    def sql(self, query: str, *params) -> list[tuple]:
        with psycopg.connect(
            host="127.0.0.1", port=self.postgres.port, user="placemap", password="placemap",
            dbname="placemap", connect_timeout=5, autocommit=True,
        ) as conn:  # fmt: skip
            return conn.execute(query, params).fetchall()

    def ensure_bucket(self) -> None:
        client = boto3.client(
            "s3", endpoint_url=self.s3.url, aws_access_key_id="placemap",
            aws_secret_access_key="placemap-secret", region_name="us-east-1",
        )  # fmt: skip
        if BUCKET not in {b["Name"] for b in client.list_buckets().get("Buckets", [])}:
            client.create_bucket(Bucket=BUCKET)

    def diagnostics(self) -> str:
        server_log = self.server.log()
        # The first unhandled errors in full (their tracebacks), then the end of each log.
        errors, start = [], 0
        while len(errors) < 3 and (found := server_log.find("Unhandled error", start)) != -1:
            errors.append(server_log[found : found + 6000])
            start = found + 6000
        return (
            "--- server: unhandled errors ---\n" + ("\n...\n".join(errors) or "none") + "\n"
            f"--- server log (end) ---\n{server_log[-4000:]}\n"
            f"--- worker log (end) ---\n{self.worker.log()[-4000:]}"
        )


def _env(postgres: Postgres, redis: Redis, s3: S3, mail_dir: Path, root: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("OTEL_", "LOG_", "DJANGO_", "TEST_", "AWS_", "THROTTLE_"))
        and key not in ("DATABASE_URL", "REDIS_URL", "CELERY_BROKER_URL")
        and key not in ("CACHE_REDIS_URL", "CHANNEL_LAYER_REDIS_URL")
    }
    env.update(
        # The base settings as production runs them (connection pool, timeouts, breaker),
        # on this stack's own dependencies.
        DJANGO_SETTINGS_MODULE="config.settings.base",
        SECRET_KEY="faults-only-key-" + "x" * 40,
        DATABASE_URL=postgres.url,
        # Every Redis role on the one Redis the drills pause and kill (docs/scaling.md).
        REDIS_URL=redis.url,
        CACHE_REDIS_URL=redis.url,
        CHANNEL_LAYER_REDIS_URL=redis.url,
        THROTTLE_REDIS_URL=redis.url,
        CELERY_BROKER_URL=redis.url,
        AWS_S3_ENDPOINT_URL=s3.url,
        AWS_STORAGE_BUCKET_NAME=BUCKET,
        AWS_ACCESS_KEY_ID="placemap",
        AWS_SECRET_ACCESS_KEY="placemap-secret",
        EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
        EMAIL_FILE_PATH=str(mail_dir),
        STATIC_ROOT=str(root / "static"),
        # Production's format. The console renderer draws every logged exception as a
        # rich traceback: a 503 with the breaker open took 0.4-0.5 s with it and 0.01 s
        # with JSON (each outage answer logs one), so on a loaded machine answers during
        # an outage outgrew FAIL_FAST_SECONDS.
        LOG_FORMAT="json",
        LOG_LEVEL="WARNING",
        JOBS_OUTBOX_RELAY_SECONDS="2",
        JOBS_OUTBOX_GRACE_SECONDS="1",
        # Redis keeps nothing on disk: a crash loses the messages it held, and the
        # documented recovery is the re-drive. Its production pace (900 s, every 300 s)
        # would outlast a drill, so the drill runs it at a drill's pace.
        JOBS_REDRIVE_AFTER_SECONDS="15",
        JOBS_REDRIVE_INTERVAL_SECONDS="5",
        # A drill waits for the breaker to half-open; 30 s would dominate its runtime.
        STORAGE_BREAKER_RESET_TIMEOUT="5",
        # Throttles are not under test; a drill sends more than a person would.
        THROTTLE_AUTH="100000/minute",
        THROTTLE_SUBMISSIONS="100000/minute",
        THROTTLE_READS="100000/minute",
        THROTTLE_UPLOADS="100000/minute",
        THROTTLE_EXPORT="100000/minute",
        PYTHONUNBUFFERED="1",
    )
    return env


@pytest.fixture(scope="package")
def stack() -> Iterator[Stack]:
    # Not under pytest's tmp dir: the postgres user must be able to reach the cluster.
    root = Path(tempfile.mkdtemp(prefix="placemap-faults-"))
    root.chmod(0o755)
    mail_dir = root / "mail"
    mail_dir.mkdir()
    postgres, redis, s3 = Postgres(root), Redis(root), S3(root)
    env = _env(postgres, redis, s3, mail_dir, root)
    server = ServerProcess(root / "server.log", env)
    worker = CeleryWorker(
        root / "worker.log",
        # INFO: CeleryWorker waits for its "ready." line.
        {**env, "LOG_LEVEL": "INFO"},
        hostname="faults@%h",
        extra_args=["--beat", "--schedule", str(root / "beat-schedule")],
        loglevel="INFO",
    )
    try:
        postgres.init()
        redis.start()
        s3.start()
        import subprocess

        subprocess.run(
            [str(BIN_DIR / "python"), "manage.py", "migrate", "-v0"],
            cwd=BASE_DIR, env=env, check=True, timeout=180,
        )  # fmt: skip
        tokens = json.loads(run_python(env, SEED).strip().splitlines()[-1])
        result = Stack(root, postgres, redis, s3, server, worker, env, tokens, tiny_png(), mail_dir)
        result.ensure_bucket()
        server.start()
        worker.start()
        for path in (WARM_SEARCH, WARM_VIEWPORT):
            assert call(server.url, "GET", path).status == 200
        yield result
    finally:
        worker.stop()
        server.stop()
        s3.stop()
        redis.stop()
        postgres.stop()
        shutil.rmtree(root, ignore_errors=True)


@pytest.fixture
def healthy(stack) -> Iterator[Stack]:
    """The stack with every dependency up and /ready 200. Afterwards, whatever a failed
    test left paused or dead is resumed or started again, so the next test starts clean."""
    wait_for(lambda: stack.ready()[0] == 200, timeout=60, what="/ready 200", log=stack.diagnostics)
    yield stack
    stack.postgres.ensure_running()
    stack.redis.ensure_running()
    if stack.s3.ensure_running():
        stack.ensure_bucket()
