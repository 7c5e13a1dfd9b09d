"""A worker whose Redis dies under load (killed, restarted: a crash, a failover) must stay
alive, reconnect and go on working. Real worker, its own throwaway Redis."""

import shutil
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis
from kombu import Consumer, Queue

from config.celery import app
from tests.jobs import worker_tasks
from tests.support import broker_key, free_port, port_is_open, stop_process, wait_for


class ThrowawayRedis:
    """A redis-server of our own on a free port, without persistence: killing it loses
    what it held, as a crashed broker without AOF does."""

    def __init__(self, tmp_path):
        self.port = free_port()
        self.dir = tmp_path
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--port",
                str(self.port),
                "--bind",
                "127.0.0.1",
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        wait_for(lambda: port_is_open(self.port), timeout=10, what="redis-server to listen")

    def kill(self) -> None:
        self.process.kill()
        self.process.wait(timeout=10)

    def stop(self) -> None:
        stop_process(self.process)


@pytest.fixture
def throwaway_redis(tmp_path) -> Iterator[ThrowawayRedis]:
    server = ThrowawayRedis(tmp_path)
    server.start()
    yield server
    server.stop()


def publish(url: str, token: str, seconds: float) -> None:
    with app.connection_for_write(url) as connection:
        worker_tasks.slow_task.apply_async(args=(token, seconds), connection=connection)


def completed(url: str, token: str) -> int:
    try:
        client = redis.Redis.from_url(url, socket_timeout=1)
        return int(client.get(worker_tasks.key(token, "completed")) or 0)
    except redis.RedisError:
        return 0


def test_it_keeps_the_worker_alive_and_working_when_redis_is_killed_under_load(
    celery_workers, throwaway_redis, token
):
    worker = celery_workers(
        env={"TEST_REDIS_URL": throwaway_redis.url},
        hostname=f"broker-loss-{token[:8]}@%h",
        include=["tests.jobs.worker_tasks"],
        loglevel="info",
        extra_args=["--concurrency", "2"],
    )
    # Three crashes, each with tasks running, reserved and queued.
    for crash in range(3):
        load = f"{token}-load-{crash}"
        for _ in range(12):
            publish(throwaway_redis.url, load, 2)
        wait_for(
            lambda load=load: completed(throwaway_redis.url, load) >= 1,
            timeout=60,
            what="the worker to be busy",
            log=worker.log,
        )
        throwaway_redis.kill()
        time.sleep(1)
        assert worker.process.poll() is None, worker.log()
        throwaway_redis.start()

    after = f"{token}-after"
    for _ in range(5):
        publish(throwaway_redis.url, after, 0.05)
    wait_for(
        lambda: completed(throwaway_redis.url, after) == 5,
        timeout=60,
        what="the worker to reconnect and run the tasks sent after the restart",
        log=worker.log,
    )
    assert worker.process.poll() is None, worker.log()
    assert "AttributeError" not in worker.log(), worker.log()


def test_it_hands_unacknowledged_messages_back_after_celery_detached_the_broken_connection(
    throwaway_redis,
):
    # What celery 5.7.0's connection-error handler does: close the connection (which
    # detaches it from its transport), then close the task consumer's channel, which
    # hands back what it had received but not acknowledged. Stock kombu 5.7.0 raises
    # AttributeError ('NoneType' ... 'hostname') there, and the worker dies.
    queue = Queue("broker-loss-test")
    connection = app.connection_for_read(throwaway_redis.url)
    with connection.Producer() as producer:
        producer.publish({"n": 1}, routing_key=queue.name, declare=[queue])
    channel = connection.channel()
    received = []
    consumer = Consumer(channel, [queue], callbacks=[lambda body, message: received.append(body)])
    consumer.consume()
    connection.drain_events(timeout=5)
    assert received == [{"n": 1}]

    connection._do_close_transport()
    channel.close()

    assert redis.Redis.from_url(throwaway_redis.url).llen(broker_key(queue.name)) == 1
