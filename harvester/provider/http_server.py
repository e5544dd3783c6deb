"""A small threaded HTTP front for :func:`protocol.handle`.

It serves the tests' fake partner repositories, the demo's bundled partners and
``ichlinks publish``, so it stays dependency-free (``http.server``) and starts
in milliseconds on a free port.  Every request goes through :meth:`ProviderServer.serve`
with an :class:`Exchange` that can also send raw bytes or drop the connection,
which is the hook the tests' fault-injecting server overrides.
"""

from __future__ import annotations

import gzip as gzip_codec
import logging
import socket
import struct
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Self
from urllib.parse import parse_qs, urlsplit

from .protocol import ProviderResponse, handle
from .repository import RecordRepository
from .tokens import TOKEN_LIFETIME

log = logging.getLogger(__name__)

FORM_CONTENT_TYPE = "application/x-www-form-urlencoded"


def accepts_gzip(accept_encoding: str | None) -> bool:
    """True when an Accept-Encoding header admits gzip (RFC 9110 section 12.5.3)."""
    if not accept_encoding:
        return False
    wildcard = False
    for item in accept_encoding.split(","):
        name, _, params = item.strip().partition(";")
        name = name.strip().lower()
        quality = 1.0
        for param in params.split(";"):
            key, _, value = param.strip().partition("=")
            if key.strip().lower() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if name in ("gzip", "x-gzip"):
            return quality > 0
        if name == "*":
            wildcard = quality > 0
    return wildcard


@dataclass(frozen=True)
class ProviderRequest:
    """An HTTP request reduced to what OAI-PMH looks at; header names are lower-cased."""

    method: str
    path: str
    params: Mapping[str, Sequence[str]]
    headers: Mapping[str, str]

    @property
    def accepts_gzip(self) -> bool:
        return accepts_gzip(self.headers.get("accept-encoding"))

    def arg(self, name: str) -> str | None:
        """The first value of an argument, for predicates and logs."""
        values = self.params.get(name)
        return values[0] if values else None


class Exchange:
    """One request in flight and the means to answer it, politely or not."""

    def __init__(self, handler: BaseHTTPRequestHandler, request: ProviderRequest,
                 *, gzip_enabled: bool) -> None:
        self.handler = handler
        self.request = request
        self.gzip_enabled = gzip_enabled
        self.answered = False

    @property
    def socket(self) -> socket.socket:
        return self.handler.connection

    def send(self, response: ProviderResponse, *, compress: bool | None = None,
             headers: Sequence[tuple[str, str]] = ()) -> None:
        """Send a complete response, gzipped when allowed and the client accepts it."""
        if compress is None:
            compress = self.gzip_enabled and self.request.accepts_gzip
        body = response.body
        extra = list(headers)
        if compress:
            body = gzip_codec.compress(body, compresslevel=6)
            extra.append(("Content-Encoding", "gzip"))
        if self.gzip_enabled:
            extra.append(("Vary", "Accept-Encoding"))
        self.send_raw(response.status, [("Content-Type", response.content_type), *extra], body)

    def send_raw(self, status: int, headers: Sequence[tuple[str, str]], body: bytes, *,
                 declared_length: int | None = None, close: bool = False) -> None:
        """Write status, headers and body exactly as given; Content-Length may be a lie."""
        handler = self.handler
        self.answered = True
        handler.send_response(status)
        for name, value in headers:
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(body) if declared_length is None
                                                 else declared_length))
        if close:
            handler.send_header("Connection", "close")
            handler.close_connection = True
        handler.end_headers()
        handler.wfile.write(body)
        handler.wfile.flush()
        if close:
            self.close()

    def close(self, *, abortive: bool = False) -> None:
        """End the connection now; ``abortive`` sends a TCP RST instead of a FIN (SO_LINGER 0)."""
        self.answered = True
        handler = self.handler
        handler.close_connection = True
        sock = self.socket
        try:
            if abortive:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
                # The request reader holds a reference to the descriptor; it must go
                # too, or close() below would not really close the socket.
                handler.rfile.close()
                sock.close()
            else:
                sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ichLinksProvider/0.1"
    timeout = 60  # an idle keep-alive connection is dropped after this many seconds
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.connections.add(self.connection)

    def finish(self) -> None:
        self.server.connections.discard(self.connection)
        try:
            super().finish()
        except OSError:
            pass  # the connection was closed under us on purpose (abortive close)

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        self._dispatch(urlsplit(self.path).query)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length > 0 else b""
        content_type = (self.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type != FORM_CONTENT_TYPE:
            # Spec 3.1.1.2: POST arguments come as a form; anything else is not OAI-PMH.
            message = f"POST requires {FORM_CONTENT_TYPE}\n".encode()
            self.send_response(415)
            self.send_header("Content-Type", "text/plain; charset=utf-8")
            self.send_header("Content-Length", str(len(message)))
            self.end_headers()
            self.wfile.write(message)
            return
        self._dispatch(body.decode("utf-8", errors="replace"))

    def _dispatch(self, query: str) -> None:
        params = parse_qs(query, keep_blank_values=True)
        request = ProviderRequest(method=self.command, path=urlsplit(self.path).path or "/",
                                  params=params,
                                  headers={k.lower(): v for k, v in self.headers.items()})
        provider = self.server.provider
        exchange = Exchange(self, request, gzip_enabled=provider.gzip)
        try:
            provider.serve(exchange)
        except (ConnectionError, TimeoutError):
            # The harvester went away mid-answer (killed, timed out): nothing to tell it.
            log.debug("client gone during %s %s", self.command, self.path)
            self.close_connection = True
        except Exception:
            log.exception("provider failed on %s %s", self.command, self.path)
            if not exchange.answered:
                message = b"internal error\n"
                try:
                    exchange.send_raw(500, [("Content-Type", "text/plain; charset=utf-8")], message,
                                      close=True)
                except OSError:
                    self.close_connection = True
            else:
                self.close_connection = True

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        log.debug("%s - %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], provider: ProviderServer) -> None:
        self.provider = provider
        self.connections: set[socket.socket] = set()
        super().__init__(address, _Handler)


class ProviderServer:
    """An OAI-PMH provider over HTTP in a background thread, on GET and POST, any path.

    ``base_url`` is ``http://host:port/oai``; the path is not checked, so one
    server can stand for several endpoints.  Usable as a context manager.
    """

    def __init__(self, repository: RecordRepository, *, host: str = "127.0.0.1", port: int = 0,
                 page_size: int = 100, token_secret: bytes, gzip: bool = True,
                 now: Callable[[], datetime] | None = None,
                 token_lifetime: timedelta = TOKEN_LIFETIME) -> None:
        self.repository = repository
        self.host = host
        self.port = port
        self.page_size = page_size
        self.token_secret = token_secret
        self.gzip = gzip
        self.now = now
        self.token_lifetime = token_lifetime
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def base_url(self) -> str:
        if self._httpd is None:
            raise RuntimeError("the server is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}/oai"

    def start(self) -> Self:
        if self._httpd is not None:
            return self
        self._httpd = _HTTPServer((self.host, self.port), self)
        self.port = self._httpd.server_address[1]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name=f"oai-provider-{self.port}", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, thread = self._httpd, self._thread
        if httpd is None:
            return
        httpd.shutdown()
        for conn in list(httpd.connections):
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        httpd.server_close()
        if thread is not None:
            thread.join(timeout=5)
        self._httpd = None
        self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()

    def respond(self, request: ProviderRequest) -> ProviderResponse:
        """The OAI-PMH answer to a request, with the base URL the client used to reach it."""
        authority = request.headers.get("host") or f"{self.host}:{self.port}"
        base = f"http://{authority}{request.path}"
        kwargs = {"now": self.now} if self.now is not None else {}
        return handle(request.params, self.repository, page_size=self.page_size,
                      token_secret=self.token_secret, base_url=base,
                      compression=("gzip",) if self.gzip else (),
                      token_lifetime=self.token_lifetime, **kwargs)

    def serve(self, exchange: Exchange) -> None:
        """Answer one request; subclasses override this to intercept (fault injection)."""
        exchange.send(self.respond(exchange.request))
