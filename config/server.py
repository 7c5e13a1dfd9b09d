"""The one way Placemap's web server starts: `python -m config.server [--host --port
--workers --log-level]`, used by the Dockerfile, `make run` (.ci/serve.sh) and the tests'
real-server fixture, so all three run with the same limits (docs/live-feed.md).

uvicorn's own defaults leave three holes, closed here:
- a request head (a websocket handshake included) has neither a size limit nor a deadline
  under httptools: an endless header or a silent client holds a socket for good;
- websockets refuses a request line over 8 kB or a header over 8 kB with 414/431, but
  uvicorn never writes that answer, so the socket stays open, unanswered;
- websocket frames up to 16 MiB are buffered while the live feed accepts 1 kB messages.
"""

import argparse
import asyncio
import os
from functools import cache

import uvicorn
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.local")


@cache
def _head_limits() -> tuple[int, float]:
    # Read once per worker process: protocols are built per connection.
    return settings.SERVER_MAX_REQUEST_HEAD_BYTES, settings.SERVER_REQUEST_HEAD_TIMEOUT


class RequestHeadTooLarge(Exception):
    """Stops httptools mid-head; the 431 has been sent already."""


class HttpProtocol(HttpToolsProtocol):
    """httptools with a size cap (431) and a deadline (408) on every request head."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.max_head_bytes, self.head_timeout = _head_limits()
        self.head_pending = False
        self.head_received = 0  # raw bytes while the head is incomplete
        self.head_parsed = 0  # request line and headers parsed so far
        self.head_timer: asyncio.TimerHandle | None = None

    def connection_made(self, transport) -> None:
        super().connection_made(transport)
        self._start_head()

    def connection_lost(self, exc) -> None:
        self._stop_head_timer()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if not self.head_pending or self.transport.is_closing():
            return
        # A head still incomplete after this chunk (httptools buffers a partial header
        # without limit): count what it has cost so far.
        self.head_received += len(data)
        if self.head_received > self.max_head_bytes:
            self._refuse(431, "Request header fields too large.")

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if not self.head_pending:  # the next request on a kept-alive connection
            self._start_head()

    # A head that arrives whole in one chunk is parsed before data_received can count it.
    def on_url(self, url: bytes) -> None:
        super().on_url(url)
        self._grow_head(len(url))

    def on_header(self, name: bytes, value: bytes) -> None:
        super().on_header(name, value)
        self._grow_head(len(name) + len(value) + 4)  # ": " and CRLF

    def on_headers_complete(self) -> None:
        self.head_pending = False
        self._stop_head_timer()
        super().on_headers_complete()

    def send_400_response(self, msg: str) -> None:
        if not self.transport.is_closing():  # not after our own 431
            super().send_400_response(msg)

    def _grow_head(self, size: int) -> None:
        self.head_parsed += size
        if self.head_parsed > self.max_head_bytes:
            self._refuse(431, "Request header fields too large.")
            raise RequestHeadTooLarge

    def _start_head(self) -> None:
        self.head_pending = True
        self.head_received = 0
        self.head_parsed = 0
        self._stop_head_timer()
        self.head_timer = self.loop.call_later(self.head_timeout, self._head_timed_out)

    def _stop_head_timer(self) -> None:
        if self.head_timer is not None:
            self.head_timer.cancel()
            self.head_timer = None

    def _head_timed_out(self) -> None:
        self.head_timer = None
        if self.head_pending and not self.transport.is_closing():
            self._refuse(408, "Request head not received in time.")

    def _refuse(self, status: int, message: str) -> None:
        self.head_pending = False
        self._stop_head_timer()
        body = message.encode("ascii")
        self.transport.write(
            b"".join(
                [
                    STATUS_LINE[status],
                    *(
                        name + b": " + value + b"\r\n"
                        for name, value in self.server_state.default_headers
                    ),
                    b"content-type: text/plain; charset=utf-8\r\n",
                    b"content-length: " + str(len(body)).encode("ascii") + b"\r\n",
                    b"connection: close\r\n\r\n",
                    body,
                ]
            )
        )
        self.transport.close()


class WebSocketProtocol(WebSocketsSansIOProtocol):
    """websockets' sans-I/O protocol, with its refusal of an unparsable handshake sent."""

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        # websockets has queued a 414/431 (or an EOF) and stopped reading; uvicorn 0.54
        # only writes what a parsed request produced, so nobody would answer or close.
        if (
            self.conn.handshake_exc is not None
            and not self.handshake_initiated
            and not self.transport.is_closing()
        ):
            self.close_sent = True
            self.transport.write(b"".join(self.conn.data_to_send()))
            self.transport.close()


def server_options() -> dict:
    """uvicorn options every Placemap web server runs with (host, port and workers aside)."""
    forwarded_allow_ips = settings.FORWARDED_ALLOW_IPS
    if "*" in forwarded_allow_ips:
        raise ImproperlyConfigured(
            "FORWARDED_ALLOW_IPS must name the proxies in front of Placemap, not '*': "
            "any client could forge its address."
        )
    return {
        "http": "config.server:HttpProtocol",
        "ws": "config.server:WebSocketProtocol",
        # The app's largest message is the protocol's limit: bigger frames are closed
        # with 1009 from their header, never buffered.
        "ws_max_size": settings.LIVE_FEED_MAX_MESSAGE_BYTES,
        # A peer that does not answer a ping within 20 s is gone: its socket is closed.
        "ws_ping_interval": 20.0,
        "ws_ping_timeout": 20.0,
        "proxy_headers": True,
        "forwarded_allow_ips": ",".join(forwarded_allow_ips),
        "server_header": False,
        "access_log": False,  # django-structlog logs each request, without client IPs
        "lifespan": "off",  # Channels' router has no lifespan handler
    }


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m config.server", description=__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8000)
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--log-level", default="info")
    args = parser.parse_args(argv)
    uvicorn.run(
        "config.asgi:application",
        host=args.host,
        port=args.port,
        workers=args.workers,
        log_level=args.log_level,
        **server_options(),
    )


if __name__ == "__main__":
    main()
