"""The publishing HTTP server: OAI-PMH on any path, media files under ``/media/``.

It is the provider's own :class:`~harvester.provider.ProviderServer` with two additions:
before each request the input is checked for edits, and the media files records link to
(plus the ``ich`` XML Schema) are served beside the endpoint.
"""

from __future__ import annotations

import logging
import mimetypes
import os
import posixpath
import shutil
import socket
from pathlib import Path
from urllib.parse import unquote

from harvester.provider import Exchange, ProviderRequest, ProviderResponse, ProviderServer, handle
from mappings.dissemination import ICH_SCHEMA_FILE

from .errors import InputError
from .readers import open_input
from .repository import PublishedRepository, publication_for

log = logging.getLogger(__name__)

_MEDIA = "/media/"
_ANY_ADDRESS = ("0.0.0.0", "::", "")


def media_path(url_path: str) -> str | None:
    """The file part of a ``.../media/<path>`` request path; None when it is not one or escapes."""
    path = unquote(url_path)
    at = path.find(_MEDIA)
    if at < 0:
        return None
    relative = posixpath.normpath(path[at + len(_MEDIA):])
    if relative.startswith(("../", "/")) or relative in ("..", "."):
        return None
    return relative


def ich_schema_file() -> Path | None:
    """The ``ich`` XML Schema the search service ships, when this installation has it."""
    candidate = Path(__file__).resolve().parents[1] / "service" / "static" / ICH_SCHEMA_FILE
    return candidate if candidate.is_file() else None


class PublishServer(ProviderServer):
    """Serves a :class:`PublishedRepository`; ``public_url`` fixes the baseURL behind a proxy."""

    def __init__(self, repository: PublishedRepository, *, host: str = "127.0.0.1", port: int = 0,
                 page_size: int = 100, public_url: str | None = None) -> None:
        """``port`` must be the one the repository's media URLs name (see :func:`free_port`)."""
        super().__init__(repository, host=host, port=port, page_size=page_size,
                         token_secret=repository.token_secret)
        self.published = repository
        self.public_url = public_url

    def respond(self, request: ProviderRequest) -> ProviderResponse:
        if self.public_url is None:
            return super().respond(request)
        return handle(request.params, self.published, page_size=self.page_size,
                      token_secret=self.token_secret, base_url=self.public_url,
                      compression=("gzip",) if self.gzip else (),
                      token_lifetime=self.token_lifetime)

    def stop(self) -> None:
        super().stop()
        self.published.close()

    def serve(self, exchange: Exchange) -> None:
        try:
            self.published.refresh()
        except InputError as exc:
            log.error("%s", exc)  # the input vanished: keep answering from the last snapshot
        request = exchange.request
        if _MEDIA in unquote(request.path):
            relative = media_path(request.path)
            self._send_file(exchange, self.published.media_file(relative) if relative else None)
        elif request.path.endswith("/" + ICH_SCHEMA_FILE):
            self._send_file(exchange, ich_schema_file(), "application/xml")
        else:
            super().serve(exchange)

    @staticmethod
    def _send_file(exchange: Exchange, path: Path | None, content_type: str | None = None) -> None:
        if path is None:
            exchange.send_raw(404, [("Content-Type", "text/plain; charset=utf-8")], b"not found\n")
            return
        kind = content_type or mimetypes.guess_type(path.name)[0] or "application/octet-stream"
        handler = exchange.handler
        exchange.answered = True
        with path.open("rb") as handle_:
            size = path.stat().st_size
            handler.send_response(200)
            handler.send_header("Content-Type", kind)
            handler.send_header("Content-Length", str(size))
            handler.end_headers()
            # Streamed: a video must not be read into memory whole.
            shutil.copyfileobj(handle_, handler.wfile, 1 << 16)
        handler.wfile.flush()


def free_port(host: str) -> int:
    """A port to announce in the records' media URLs before the server binds it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


def default_base_url(host: str, port: int) -> str:
    """``http://HOST:PORT/oai``; a wildcard address is named by this machine's host name."""
    name = socket.getfqdn() if host in _ANY_ADDRESS else host
    name = f"[{name}]" if ":" in name else name
    return f"http://{name}:{port}/oai"


def publishing_server(input_path: str | os.PathLike[str], *, host: str = "127.0.0.1",
                      port: int = 0, base_url: str | None = None, name: str | None = None,
                      admin_email: str | None = None, sheet: str | None = None,
                      page_size: int = 100, min_interval: float = 1.0) -> PublishServer:
    """Everything ``ichlinks publish INPUT`` serves, not yet started (a context manager)."""
    source = open_input(input_path, sheet=sheet)
    port = port or free_port(host)
    publication = publication_for(source.path, name=name, admin_email=admin_email,
                                  base_url=base_url or default_base_url(host, port))
    repository = PublishedRepository(source, publication, min_interval=min_interval)
    return PublishServer(repository, host=host, port=port, page_size=page_size, public_url=base_url)
