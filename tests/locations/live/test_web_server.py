"""The web server as production starts it (python -m config.server), probed over raw
sockets as a hostile or unlucky client would: oversized and slow handshakes, oversized
frames, foreign origins, and a map left open with nothing to say."""

import base64
import http.client
import json
import os
import select
import socket
import struct
import time
from collections.abc import Iterator

import pytest
from django.db import transaction
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import connect

from locations import feed
from tests.locations.factories import LocationFactory
from tests.support import WebServer

BBOX = "13.0,52.3,13.8,52.7"
OTHER_ORIGIN = "https://map.example.com"


@pytest.fixture(scope="module")
def server(django_db_setup, tmp_path_factory) -> Iterator[WebServer]:
    """One server for the probes that need no rows (each would otherwise pay a start-up),
    with a 1 s request-head deadline and a second allowed origin."""
    server = WebServer(
        tmp_path_factory.mktemp("web") / "web.log",
        {"SERVER_REQUEST_HEAD_TIMEOUT": "1"},
        other_origins=[OTHER_ORIGIN],
    ).start()
    yield server
    server.stop()


def handshake(path: str = f"/ws/map/?bbox={BBOX}", *, origin: str | None, extra: str = "") -> bytes:
    key = base64.b64encode(os.urandom(16)).decode()
    lines = [
        f"GET {path} HTTP/1.1",
        "Host: 127.0.0.1",
        "Upgrade: websocket",
        "Connection: Upgrade",
        f"Sec-WebSocket-Key: {key}",
        "Sec-WebSocket-Version: 13",
        *([f"Origin: {origin}"] if origin is not None else []),
        *([extra] if extra else []),
    ]
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def answer(port: int, data: bytes, *, timeout: float = 3.0) -> tuple[bytes, float]:
    """Send `data` on a fresh connection; the first bytes answered and the seconds it took
    (a missing answer fails the test after `timeout`)."""
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", port), timeout=timeout) as sock:
        if data:
            sock.sendall(data)
        received = sock.recv(4096)
    return received, time.monotonic() - started


def status_of(response: bytes) -> int:
    return int(response.split(b" ", 2)[1])


def test_it_answers_a_handshake_with_an_oversized_request_line_with_414_at_once(server):
    path = f"/ws/map/?bbox={BBOX}&pad={'a' * 9000}"

    response, seconds = answer(server.port, handshake(path, origin=server.origin))

    assert status_of(response) == 414
    assert seconds < 2


@pytest.mark.parametrize("path", [f"/ws/map/?bbox={BBOX}", "/health"])
def test_it_answers_a_20_kb_header_with_431_at_once(server, path):
    request = handshake(path, origin=server.origin, extra=f"X-Padding: {'a' * 20_000}")

    response, seconds = answer(server.port, request)

    assert status_of(response) == 431
    assert seconds < 2


def test_it_answers_many_small_headers_adding_up_to_20_kb_with_431(server):
    padding = "\r\n".join(f"X-Padding-{n}: {'a' * 90}" for n in range(200))

    response, _ = answer(server.port, handshake(origin=server.origin, extra=padding))

    assert status_of(response) == 431


def test_it_times_out_a_silent_connection_and_a_half_sent_handshake(server):
    silent, silent_seconds = answer(server.port, b"")
    partial, partial_seconds = answer(server.port, b"GET /ws/map/?bbox=1,1,2,2 HTTP/1.1\r\nHost: 1")

    assert (status_of(silent), status_of(partial)) == (408, 408)
    assert 0.9 < silent_seconds < 2.5
    assert 0.9 < partial_seconds < 2.5


def test_a_client_dripping_its_headers_is_cut_off_at_the_deadline(server):
    started = time.monotonic()
    with socket.create_connection(("127.0.0.1", server.port), timeout=3) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\n")
        response = b""
        for n in range(30):  # a header every 0.2 s: always busy, never done
            sock.sendall(f"X-Drip-{n}: 1\r\n".encode())
            if select.select([sock], [], [], 0.2)[0]:
                response = sock.recv(4096)
                break

    assert status_of(response) == 408
    assert time.monotonic() - started < 2.5


def test_a_kept_alive_connection_idle_between_requests_is_not_cut_off(server):
    # The head deadline (1 s here) runs from a request's first byte, not from the last
    # response: the keep-alive timeout (5 s) governs the pause in between.
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    statuses = []
    for _ in range(2):
        connection.request("GET", "/health")
        response = connection.getresponse()
        response.read()
        statuses.append(response.status)
        time.sleep(1.5)
    connection.close()

    # A head deadline running over the pause would have answered the second request 408.
    assert statuses == [200, 200]


class FrameReader:
    """Server frames (unmasked) from a raw socket, after the handshake's response."""

    def __init__(self, sock: socket.socket):
        self.sock = sock
        self.buffer = b""
        head = self._until(lambda: b"\r\n\r\n" in self.buffer)
        self.status = status_of(head)
        self.buffer = self.buffer.split(b"\r\n\r\n", 1)[1]

    def _until(self, ready) -> bytes:
        while not ready():
            chunk = self.sock.recv(4096)
            assert chunk, "the server hung up"
            self.buffer += chunk
        return self.buffer

    def frame(self) -> tuple[int, bytes]:
        self._until(lambda: len(self.buffer) >= 2)
        opcode, length = self.buffer[0] & 0x0F, self.buffer[1] & 0x7F
        offset = 2
        if length == 126:
            self._until(lambda: len(self.buffer) >= 4)
            (length,) = struct.unpack("!H", self.buffer[2:4])
            offset = 4
        self._until(lambda: len(self.buffer) >= offset + length)
        payload = self.buffer[offset : offset + length]
        self.buffer = self.buffer[offset + length :]
        return opcode, payload


def test_it_closes_a_4_mb_frame_with_1009_without_reading_it(server):
    size = 4 * 1024 * 1024
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as sock:
        sock.sendall(handshake(origin=server.origin))
        frames = FrameReader(sock)
        assert frames.status == 101
        assert json.loads(frames.frame()[1])["type"] == "subscribed"

        # A text frame announcing 4 MB (64-bit length, masked as a client must).
        sock.sendall(struct.pack("!BBQ", 0x81, 0x80 | 127, size) + b"\x00" * 4)

        # The server answers from the frame header alone: a close frame, code 1009...
        opcode, payload = frames.frame()
        assert (opcode, struct.unpack("!H", payload[:2])[0]) == (0x8, 1009)

        # ...and hangs up: the 4 MB body is never read.
        sent = 0
        with pytest.raises(OSError):
            while sent < size:
                sent += sock.send(b"a" * 65536)
                time.sleep(0.002)
    assert sent < size


def test_a_message_over_the_live_feed_limit_is_closed_with_1009(server):
    with connect(f"ws://127.0.0.1:{server.port}/ws/map/?bbox={BBOX}", origin=server.origin) as ws:
        ws.recv(timeout=5)
        ws.send(json.dumps({"type": "subscribe", "bbox": [1, 1, 2, 2], "pad": "a" * 900}))
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"

        ws.send(json.dumps({"type": "subscribe", "pad": "a" * 1100}))
        with pytest.raises(ConnectionClosed) as closed:
            ws.recv(timeout=5)
    assert closed.value.rcvd.code == 1009


@pytest.mark.parametrize(
    "origin",
    [
        "http://127.0.0.1:1234",  # another port of the same host
        "https://127.0.0.1:{port}",  # another scheme
        "http://localhost:{port}",  # another name of the same host
        "http://127.0.0.1",  # the default port, not the server's
        "null",  # a sandboxed page or a file
    ],
)
def test_it_refuses_a_handshake_from_any_other_origin_than_an_allowed_one(server, origin):
    origin = origin and origin.format(port=server.port)

    response, _ = answer(server.port, handshake(origin=origin))

    assert status_of(response) == 403


@pytest.mark.parametrize("origin", ["{own}", OTHER_ORIGIN, "https://MAP.example.com:443", None])
def test_it_accepts_a_handshake_from_an_allowed_origin_or_none(server, origin):
    # The default port spelled out and the host in capitals: still the same origin. No
    # Origin at all: a native app (WS_ALLOW_NO_ORIGIN, on by default).
    origin = origin and origin.format(own=server.origin)
    response, _ = answer(server.port, handshake(origin=origin))

    assert status_of(response) == 101


def test_an_idle_map_keeps_its_feed_past_the_channel_layers_blocking_read(server, transactional_db):
    place = LocationFactory(approved=True)
    lon, lat = place.point.x, place.point.y
    url = (
        f"ws://127.0.0.1:{server.port}/ws/map/?bbox={lon - 0.1},{lat - 0.1},{lon + 0.1},{lat + 0.1}"
    )

    with connect(url, origin=server.origin, open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=5))["type"] == "subscribed"
        # channels_redis blocks 5 s per read; the socket used to drop (1006) right then.
        with pytest.raises(TimeoutError):
            ws.recv(timeout=7)

        with transaction.atomic():
            feed.publish_on_commit(
                event=feed.EVENT_APPROVED, location_id=place.id, lon=lon, lat=lat, feature=None
            )
        message = json.loads(ws.recv(timeout=5))

    assert (message["type"], message["id"]) == ("location.approved", str(place.id))
    assert "Exception in ASGI application" not in server.log()
