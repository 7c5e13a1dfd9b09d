"""The one client for every S3 call Placemap makes.

Timeouts bound every call. (The photos work wraps these calls in retries and a
circuit breaker; keep every S3 call going through this module so it covers them all.)
"""

from functools import lru_cache

import boto3
from botocore.config import Config
from django.conf import settings


@lru_cache(maxsize=1)
def _client_for(endpoint: str, region: str, key: str, connect: float, read: float):
    return boto3.client(
        "s3",
        endpoint_url=endpoint or None,
        region_name=region,
        aws_access_key_id=key,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
        config=Config(
            signature_version="s3v4",
            s3={"addressing_style": "path"},
            connect_timeout=connect,
            read_timeout=read,
            retries={"max_attempts": 1, "mode": "standard"},
        ),
    )


def s3_client():
    return _client_for(
        settings.AWS_S3_ENDPOINT_URL,
        settings.AWS_S3_REGION_NAME,
        settings.AWS_ACCESS_KEY_ID,
        settings.STORAGE_CONNECT_TIMEOUT,
        settings.STORAGE_READ_TIMEOUT,
    )


def bucket_name() -> str:
    return settings.AWS_STORAGE_BUCKET_NAME


def ensure_bucket() -> None:
    client = s3_client()
    existing = {b["Name"] for b in client.list_buckets().get("Buckets", [])}
    if bucket_name() not in existing:
        client.create_bucket(Bucket=bucket_name())


def storage_health() -> dict:
    s3_client().head_bucket(Bucket=bucket_name())
    return {"bucket": bucket_name()}


def delete_objects(keys: list[str]) -> None:
    keys = [k for k in keys if k]
    for start in range(0, len(keys), 1000):
        chunk = keys[start : start + 1000]
        s3_client().delete_objects(
            Bucket=bucket_name(), Delete={"Objects": [{"Key": k} for k in chunk], "Quiet": True}
        )
