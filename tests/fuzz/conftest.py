"""A throwaway Placemap for the schema fuzzing: its own database on the shared
PostgreSQL (created and migrated here, dropped after), its own bucket on the S3 endpoint,
its own Redis key prefix, seeded users with tokens and a few places, and a real uvicorn
server. The fuzzing's stateful phase edits and deletes what it finds: nothing here is
data anyone keeps."""

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import boto3
import psycopg
import pytest
import redis
from django.conf import settings
from django.db import connections

from config import redis as redis_roles
from tests.support import BASE_DIR, ServerProcess, child_env

SEED = """
import json
import django
django.setup()
from rest_framework.authtoken.models import Token
from accounts.models import User
from accounts.services import moderator_grant
from locations.services import location_create
from moderation.services import location_approve

def user(name, moderator=False):
    account = User.objects.create_user(name, f"{name}@example.org", "a-Long-fuzz-passw0rd")
    if moderator:
        moderator_grant(user=account)
    return account

accounts = {name: user(name, name.startswith("moderator")) for name in (
    "fuzzuser", "fuzzowner", "moderator", "revoker", "eraser")}
approve = accounts["moderator"]
for i in range(6):
    place = location_create(
        submitter=accounts["fuzzuser" if i % 2 else "fuzzowner"],
        name=f"Fuzz place {i}", description="seeded for the fuzzing",
        category="cafe", latitude=48.85 + i / 100, longitude=2.35 + i / 100,
    )
    if i < 4:
        location_approve(location_id=place.id, moderator=approve)
print(json.dumps({name: Token.objects.create(user=a).key for name, a in accounts.items()}))
"""


@dataclass
class FuzzStack:
    url: str
    tokens: dict[str, str]
    server: ServerProcess
    env: dict[str, str]
    workdir: Path


def _admin_connection() -> psycopg.Connection:
    db = connections["default"].settings_dict
    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"],
        dbname="postgres",
        autocommit=True,
        connect_timeout=5,
    )


def _drop_database(name: str) -> None:
    with _admin_connection() as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _s3():
    return boto3.client(
        "s3",
        endpoint_url=settings.AWS_S3_ENDPOINT_URL,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        region_name=settings.AWS_S3_REGION_NAME,
    )


def _drop_bucket(client, bucket: str) -> None:
    try:
        for page in client.get_paginator("list_objects_v2").paginate(Bucket=bucket):
            keys = [{"Key": item["Key"]} for item in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=bucket, Delete={"Objects": keys})
        client.delete_bucket(Bucket=bucket)
    except client.exceptions.NoSuchBucket:
        pass


def _drop_redis_prefix(prefix: str) -> None:
    # Cache, throttle, channel layer, breaker and broker keys all start with the prefix,
    # in whichever Redis holds their role (docs/scaling.md).
    for url in redis_roles.instances():
        client = redis.Redis.from_url(url)
        try:
            keys = list(client.scan_iter(match=f"{prefix}*", count=1000))
            if keys:
                client.delete(*keys)
        finally:
            client.close()


@pytest.fixture(scope="package")
def fuzz_stack(tmp_path_factory) -> Iterator[FuzzStack]:
    # Named after this run's test database, so parallel checkouts keep apart.
    base = settings.DATABASES["default"]["TEST"]["NAME"]
    db_name = f"{base}_fuzz"
    bucket = f"{settings.AWS_STORAGE_BUCKET_NAME}-fuzz"
    prefix = f"{base}-fuzz-{os.getpid()}"
    workdir = tmp_path_factory.mktemp("fuzz")
    db = connections["default"].settings_dict
    database_url = (
        f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST'] or '127.0.0.1'}:"
        f"{db['PORT'] or 5432}/{db_name}"
    )
    env = child_env(
        DJANGO_SETTINGS_MODULE="tests.fuzz.settings",
        DATABASE_URL=database_url,
        TEST_BUCKET=bucket,
        FUZZ_PREFIX=prefix,
        LOG_FORMAT="console",
        LOG_LEVEL="WARNING",
        # Throttles are not under test here and would turn most cases into 429s.
        THROTTLE_AUTH="100000/minute",
        THROTTLE_SUBMISSIONS="100000/minute",
        THROTTLE_READS="100000/minute",
        THROTTLE_UPLOADS="100000/minute",
        THROTTLE_GDPR="100000/minute",
        THROTTLE_EXPORT="100000/minute",
        THROTTLE_FLAGS="100000/minute",
    )
    s3 = _s3()
    server = ServerProcess(workdir / "server.log", env)
    try:
        _drop_database(db_name)
        with _admin_connection() as conn:
            conn.execute(f'CREATE DATABASE "{db_name}"')
        subprocess.run(
            [sys.executable, "manage.py", "migrate", "-v0"],
            cwd=BASE_DIR,
            env=env,
            check=True,
            timeout=120,
        )
        _drop_bucket(s3, bucket)
        s3.create_bucket(Bucket=bucket)
        seeded = subprocess.run(
            [sys.executable, "-c", SEED],
            cwd=BASE_DIR,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert seeded.returncode == 0, seeded.stderr
        tokens = json.loads(seeded.stdout.strip().splitlines()[-1])
        server.start()
        yield FuzzStack(url=server.url, tokens=tokens, server=server, env=env, workdir=workdir)
    finally:
        server.stop()
        _drop_database(db_name)
        _drop_bucket(s3, bucket)
        _drop_redis_prefix(prefix)
