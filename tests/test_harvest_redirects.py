"""A source URL that redirects: followed on the same host, to another host only if configured."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

import pytest
from oai_fixtures import make_records

from harvester.config import Partner, SourceConfig
from harvester.harvest import Harvester


@pytest.fixture
def redirector() -> Iterator[Any]:
    """An HTTP server whose every request is redirected (301) to ``server.target`` + query."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            query = urlsplit(self.path).query
            self.send_response(301)
            self.send_header("Location", f"{self.server.target}?{query}")  # type: ignore[attr-defined]
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def harvest(store: Any, url: str, follow: str) -> Any:
    src = SourceConfig(name="moved", url=url, partner=Partner("Moved"), retries=0,
                       follow_redirects=follow)
    harvester = Harvester(store, sleep=lambda s: None)
    try:
        return harvester.harvest(src)
    finally:
        harvester.pools.close()


@pytest.mark.parametrize("follow, other_host_ok", [("any", True), ("same-host", False), ("never", False)])
def test_redirect_to_another_host(store: Any, oai_server: Any, redirector: Any, follow: str,
                                  other_host_ok: bool) -> None:
    target = oai_server(make_records(15))
    # "localhost" is another host name than the redirector's 127.0.0.1
    redirector.target = target.base_url.replace("127.0.0.1", "localhost")
    result = harvest(store, f"http://127.0.0.1:{redirector.server_port}/oai", follow)
    if other_host_ok:
        assert result.status == "ok" and result.new == 15
    else:
        assert result.status == "failed"
        assert "redirected to http://localhost" in (result.error or "")
        assert f"follow_redirects={follow}" in (result.error or "")
        assert not target.requests


def test_redirect_on_the_same_host_is_followed_by_default(store: Any, oai_server: Any,
                                                         redirector: Any) -> None:
    target = oai_server(make_records(8))
    redirector.target = target.base_url  # same host name, another port
    result = harvest(store, f"http://127.0.0.1:{redirector.server_port}/oai", "same-host")
    assert result.status == "ok" and result.new == 8


@pytest.mark.parametrize("follow, other_host_ok", [("any", True), ("same-host", False)])
def test_probing_a_configured_source_follows_its_redirect_rule(oai_server: Any, redirector: Any,
                                                              follow: str, other_host_ok: bool) -> None:
    from harvester.probe import probe

    target = oai_server(make_records(15))
    redirector.target = target.base_url.replace("127.0.0.1", "localhost")
    src = SourceConfig(name="moved", url=f"http://127.0.0.1:{redirector.server_port}/oai",
                       partner=Partner("Moved"), retries=0, follow_redirects=follow)
    report = probe("ignored: the source's url is used", source=src, retries=0)
    if other_host_ok:
        assert report["ok"] and report["crosswalk_preview"]["records"] == 15
        assert report["probed"]["source"] == "moved"
    else:
        assert not report["ok"] and "Identify failed" in report["problems"][0]
        assert "moved" in report["error"]  # the source is named, as in its harvest's errors
