"""The synthetic partner as a separate process: pre-rendered pages over HTTP/1.1 keep-alive.

It runs in its own interpreter (``python -m bench.provider --n N``) so that serving does
not share a GIL with the client being measured.  It prints one JSON line when its pages
are rendered and it listens, then serves until its stdin closes (so it cannot outlive
the benchmark).  OAI-PMH requests are counted; ``/_bench/status`` and
``/_bench/change?fraction=`` are the benchmark's own controls and are not counted.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import threading
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from types import TracebackType
from typing import Any, Self
from urllib.parse import parse_qs, urlsplit

from bench.repository import SyntheticRepository

REPO_ROOT = Path(__file__).resolve().parents[1]
CONTROL_PREFIX = "/_bench/"


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ichLinksBenchProvider/1"
    disable_nagle_algorithm = True
    timeout = 120  # idle keep-alive connections go after this
    server: _Server

    def do_GET(self) -> None:  # noqa: N802 - http.server naming
        parts = urlsplit(self.path)
        self._dispatch(parts.path, parts.query)

    def do_POST(self) -> None:  # noqa: N802
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        parts = urlsplit(self.path)
        self._dispatch(parts.path, body or parts.query)

    def _dispatch(self, path: str, query: str) -> None:
        params = parse_qs(query, keep_blank_values=True)
        if path.startswith(CONTROL_PREFIX):
            self._control(path[len(CONTROL_PREFIX):], params)
            return
        answer = self.server.repository.answer(params)
        with self.server.count_lock:
            self.server.requests += 1
            self.server.bytes_sent += len(answer.body)
        self._send(200, "text/xml; charset=utf-8", answer.body)

    def _control(self, name: str, params: dict[str, list[str]]) -> None:
        repo = self.server.repository
        if name == "status":
            data = {**repo.describe(), "requests": self.server.requests,
                    "bytes_sent": self.server.bytes_sent}
        elif name == "change":
            fraction = float((params.get("fraction") or ["0.01"])[0])
            changed = repo.change(fraction)
            data = {"changed": len(changed), "identifiers": changed[:5], "clock": repo.describe()["clock"]}
        else:
            self._send(404, "text/plain; charset=utf-8", b"unknown control\n")
            return
        self._send(200, "application/json", json.dumps(data).encode())

    def _send(self, status: int, content_type: str, body: bytes) -> None:
        # One write for status line, headers and body: no Date header to format, no small
        # segments for Nagle and delayed ACKs to hold back.
        head = (f"HTTP/1.1 {status} {'OK' if status == 200 else 'Not Found'}\r\n"
                f"Content-Type: {content_type}\r\nContent-Length: {len(body)}\r\n\r\n").encode()
        self.wfile.write(head + body)

    def log_message(self, format: str, *args: object) -> None:  # noqa: A002 - base signature
        pass


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 64

    def __init__(self, address: tuple[str, int], repository: SyntheticRepository) -> None:
        self.repository = repository
        self.requests = 0
        self.bytes_sent = 0
        self.count_lock = threading.Lock()
        super().__init__(address, _Handler)


def serve(size: int, *, host: str = "127.0.0.1", port: int = 0) -> None:
    """Render, announce ``{"port": ..., ...}`` on stdout, serve until stdin closes."""
    import time

    started = time.perf_counter()
    repository = SyntheticRepository(size)
    render_s = time.perf_counter() - started
    server = _Server((host, port), repository)
    thread = threading.Thread(target=server.serve_forever, daemon=True, name="bench-provider")
    thread.start()
    print(json.dumps({"port": server.server_address[1], "render_s": round(render_s, 3),
                      **repository.describe()}), flush=True)
    try:
        sys.stdin.buffer.read()
    finally:
        server.shutdown()
        server.server_close()


class ProviderProcess:
    """The parent's handle on a provider process: start, URL, counters, change, stop."""

    def __init__(self, size: int, *, log_path: Path | None = None) -> None:
        self.size = size
        self.log_path = log_path
        self.info: dict[str, Any] = {}
        self._proc: subprocess.Popen[bytes] | None = None
        self._log: Any = None
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.info['port']}/oai"

    def start(self) -> Self:
        env = child_environment()
        self._log = open(self.log_path, "wb") if self.log_path else subprocess.DEVNULL  # noqa: SIM115
        self._proc = subprocess.Popen([sys.executable, "-m", "bench.provider", "--n", str(self.size)],
                                      stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self._log,
                                      cwd=REPO_ROOT, env=env)
        assert self._proc.stdout is not None
        line = self._proc.stdout.readline()
        if not line:
            self.stop()
            raise RuntimeError(f"the benchmark provider did not start (see {self.log_path or 'stderr'})")
        self.info = json.loads(line)
        return self

    def _call(self, name: str, method: str = "GET", query: str = "") -> dict[str, Any]:
        url = f"http://127.0.0.1:{self.info['port']}{CONTROL_PREFIX}{name}" + (f"?{query}" if query else "")
        request = urllib.request.Request(url, method=method, data=b"" if method == "POST" else None)
        with self._opener.open(request, timeout=600) as response:
            data: dict[str, Any] = json.loads(response.read())
        return data

    def status(self) -> dict[str, Any]:
        return self._call("status")

    def requests(self) -> int:
        return int(self.status()["requests"])

    def change(self, fraction: float) -> dict[str, Any]:
        return self._call("change", "POST", f"fraction={fraction}")

    def stop(self) -> None:
        proc, self._proc = self._proc, None
        if proc is not None:
            try:
                if proc.stdin is not None:
                    proc.stdin.close()
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        if self._log not in (None, subprocess.DEVNULL):
            self._log.close()
        self._log = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


def child_environment() -> dict[str, str]:
    """The environment for every process the benchmark starts.

    The project's own overrides are removed (a developer's ICHLINKS_STORE must not
    redirect the benchmark), the repository root is importable, and 127.0.0.1 bypasses
    any HTTP proxy, which httpx and requests would otherwise honour.  Python writes its
    bytecode cache as it does on a user's machine (some sandboxes set
    PYTHONDONTWRITEBYTECODE, which makes every command recompile the project, ~50 ms).
    """
    env = {k: v for k, v in os.environ.items()
           if not k.startswith("ICHLINKS_") and k not in ("ES_API_KEY", "PYTHONDONTWRITEBYTECODE")}
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(REPO_ROOT), env.get("PYTHONPATH")]))
    no_proxy = ",".join(filter(None, ["127.0.0.1", "localhost", env.get("NO_PROXY")]))
    env["NO_PROXY"] = env["no_proxy"] = no_proxy
    return env


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.provider",
                                     description="Serve the benchmark's synthetic OAI-PMH repository.")
    parser.add_argument("--n", type=int, default=10_000, help="records (default 10000)")
    parser.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    args = parser.parse_args(argv)
    serve(args.n, port=args.port)


if __name__ == "__main__":
    main()
