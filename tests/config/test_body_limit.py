"""config.body_limit against a real uvicorn server, over raw sockets: what a client that
sends too much (or sends chunked) sees, and when."""

import http.client
import json
import select
import socket
import time

import pytest
from django.conf import settings

from config.body_limit import body_limit_for
from tests.accounts.factories import DEFAULT_PASSWORD, UserFactory

PROBLEM = "application/problem+json"
MB = 1024 * 1024


def _read_response(sock: socket.socket, *, timeout: float) -> tuple[int, dict[str, str], bytes]:
    """Status, headers and body of the one response on `sock` (the server closes it)."""
    sock.settimeout(timeout)
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        assert chunk, f"connection closed before a response: {data!r}"
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = {
        name.strip().lower(): value.strip()
        for name, _, value in (line.partition(":") for line in lines[1:])
    }
    while len(body) < int(headers.get("content-length", 0)):
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split()[1]), headers, body


def _send_head(port: int, path: str, headers: dict[str, str]) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=5)
    lines = [f"POST {path} HTTP/1.1", "Host: 127.0.0.1"]
    lines += [f"{name}: {value}" for name, value in headers.items()]
    sock.sendall(("\r\n".join(lines) + "\r\n\r\n").encode())
    return sock


def _assert_413_problem(status, headers, body, *, limit: int) -> dict:
    assert status == 413
    assert headers["content-type"] == PROBLEM
    problem = json.loads(body)
    assert problem["status"] == 413
    assert f"{limit:,}" in problem["detail"]
    assert problem["request_id"] == headers["x-request-id"]
    return problem


@pytest.mark.parametrize(
    ("path", "content_type"),
    [
        # Anonymous, and a route that does not even take POST: still refused at once.
        ("/api/v1/categories", "application/json"),
        ("/api/v1/images/upload", "multipart/form-data; boundary=x"),
        ("/admin/locations/location/import/", "multipart/form-data; boundary=x"),
    ],
)
def test_it_refuses_a_declared_oversized_body_before_it_is_sent(asgi_server, path, content_type):
    with _send_head(
        asgi_server,
        path,
        {"Content-Type": content_type, "Content-Length": str(100 * MB), "X-Request-ID": "big-1"},
    ) as sock:
        sock.sendall(b"{" * 10)  # 10 bytes of the 100 MB announced
        started = time.monotonic()
        status, headers, body = _read_response(sock, timeout=5)
        answered_in = time.monotonic() - started
        file_limit = settings.IMAGE_UPLOAD_MAX_BYTES
        limit = file_limit if path == "/api/v1/images/upload" else body_limit_for(path)
        problem = _assert_413_problem(status, headers, body, limit=limit)
        if path == "/api/v1/images/upload":  # as the upload view would: the file named
            assert problem["errors"] == {"file": [f"The file is larger than {file_limit:,} bytes."]}
        assert headers["x-request-id"] == "big-1"
        assert headers["connection"] == "close"
        assert answered_in < 2
        assert _closed(sock)  # the rest of the body is never read


def test_the_photo_route_takes_a_body_larger_than_the_json_limit(asgi_server):
    size = settings.DATA_UPLOAD_MAX_MEMORY_SIZE + MB  # over the JSON limit, under the photo one
    assert size < body_limit_for("/api/v1/images/upload")
    for path, expected in (("/api/v1/images/upload", 401), ("/api/v1/auth/token", 413)):
        with _send_head(
            asgi_server,
            path,
            {"Content-Type": "multipart/form-data; boundary=x", "Content-Length": str(size)},
        ) as sock:
            if expected == 401:
                sock.sendall(b"x" * size)
            status, _, _ = _read_response(sock, timeout=10)
            assert status == expected, path


def test_it_cuts_off_a_chunked_body_at_the_limit(asgi_server):
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    chunk = b"a" * 65536
    sent = 0
    with _send_head(
        asgi_server,
        "/api/v1/auth/token",
        {"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
    ) as sock:
        # Keep sending until the server answers; a client that kept going would be cut off.
        while sent < 10 * limit:
            readable, _, _ = select.select([sock], [], [], 0)
            if readable:
                break
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except (BrokenPipeError, ConnectionResetError):
                break
            sent += len(chunk)
            time.sleep(0.005)
        status, headers, body = _read_response(sock, timeout=5)
    _assert_413_problem(status, headers, body, limit=limit)
    assert limit < sent < limit + 2 * MB


def test_it_reads_a_small_chunked_json_body(asgi_server):
    user = UserFactory()
    payload = json.dumps({"username": user.username, "password": DEFAULT_PASSWORD}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", asgi_server, timeout=10)
    # Two chunks, no Content-Length: Django alone would read this body as empty.
    connection.request(
        "POST",
        "/api/v1/auth/token",
        body=iter([payload[:10], payload[10:]]),
        headers={"Content-Type": "application/json"},
        encode_chunked=True,
    )
    response = connection.getresponse()
    body = json.loads(response.read())
    connection.close()
    assert response.status == 200, body
    assert body["token"]


def test_the_limits_follow_the_settings(settings):
    settings.IMAGE_UPLOAD_MAX_BYTES = 1 * MB
    settings.IMPORT_MAX_UPLOAD_BYTES = 3 * MB
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 1000
    assert body_limit_for("/api/v1/images/upload") == MB + 64 * 1024
    assert body_limit_for("/admin/locations/location/import/") == 3 * MB + 64 * 1024
    assert body_limit_for("/api/v1/locations") == 1000
    assert body_limit_for("/admin/login/") == 1000


def _closed(sock) -> bool:
    """The server closed the connection: an orderly end of stream, or a reset, which is
    how the kernel closes a socket holding bytes the server never read (here, the start of
    the refused body), depending on timing."""
    try:
        return sock.recv(1) == b""
    except ConnectionResetError:
        return True


def test_a_request_without_a_body_is_passed_on_without_looking_up_its_limit(monkeypatch):
    """A GET (no Content-Length, not chunked) has nothing to limit: the route's limit,
    two URL reversals, is not worked out for it (it was, on every request)."""
    import asyncio

    from config import body_limit

    looked_up: list[str] = []
    monkeypatch.setattr(body_limit, "body_limit_for", lambda path: looked_up.append(path) or 10)
    passed: list[str] = []

    async def app(scope, receive, send):
        passed.append(scope["path"])

    middleware = body_limit.BodyLimitMiddleware(app)

    def scope(headers):
        return {"type": "http", "method": "GET", "path": "/api/v1/tiles/1/0/0.mvt",
                "headers": headers}  # fmt: skip

    asyncio.run(middleware(scope([(b"accept", b"*/*")]), None, None))
    assert (passed, looked_up) == (["/api/v1/tiles/1/0/0.mvt"], [])
    # With a body, the limit is still asked for.
    asyncio.run(middleware(scope([(b"content-length", b"5")]), None, None))
    assert looked_up == ["/api/v1/tiles/1/0/0.mvt"]
