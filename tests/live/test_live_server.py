"""One end-to-end run: a real uvicorn process serving config.asgi on a loopback port,
a real websocket client, the real Redis channel layer and the pytest test database."""

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest
from django.conf import settings
from django.db import connection, transaction
from websockets.sync.client import connect

from locations import feed
from tests.locations.factories import LocationFactory


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def asgi_server(transactional_db):
    port = _free_port()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "config.settings.test",
        # The server must see the rows this test commits: point it at the test database.
        "DATABASE_URL": f"postgis://{db['USER']}:{db['PASSWORD']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
    }
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "config.asgi:application",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--lifespan",
            "off",
            "--ws",
            "websockets",
            "--log-level",
            "warning",
        ],
        cwd=settings.BASE_DIR,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1) as r:
                    if r.status == 200:
                        break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    output = process.stdout.read().decode() if process.poll() is not None else ""
                    pytest.fail(f"uvicorn did not start on port {port}: {output}")
                time.sleep(0.2)
        yield port
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_a_real_server_pushes_a_committed_approval_to_a_websocket_client(asgi_server):
    place = LocationFactory(approved=True)
    lon, lat = place.point.x, place.point.y
    feature = {
        "type": "Feature",
        "id": str(place.id),
        "geometry": {"type": "Point", "coordinates": [lon, lat]},
        "properties": {"name": place.name, "category": place.category},
    }
    url = (
        f"ws://127.0.0.1:{asgi_server}/ws/map/?bbox={lon - 0.1},{lat - 0.1},{lon + 0.1},{lat + 0.1}"
    )

    with connect(url, origin=f"http://127.0.0.1:{asgi_server}", open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"

        with transaction.atomic():
            feed.publish_on_commit(
                event=feed.EVENT_APPROVED, location_id=place.id, lon=lon, lat=lat, feature=feature
            )
            time.sleep(0.2)  # nothing may leave before the commit
            with pytest.raises(TimeoutError):
                ws.recv(timeout=0.3)

        message = json.loads(ws.recv(timeout=5))

    assert message == {
        "type": "location.approved",
        "id": str(place.id),
        "lon": lon,
        "lat": lat,
        "feature": feature,
    }
