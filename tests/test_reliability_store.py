"""The database goes away in the middle of a harvest: a clean failure, then an exact resume.

Three ways to lose the store while a slow provider is being paged:
- PostgreSQL: the harvest's backend is killed with ``pg_terminate_backend`` while it waits
  on a lock inside its page transaction (so the page is half-written when it dies);
- PostgreSQL behind a TCP proxy that the test cuts (the server is unreachable, new
  connections refused) and later restores;
- SQLite: another process holds the write lock longer than the busy timeout.
Each time the run ends ``failed`` with an error naming the store, the store holds exactly
the pages committed before the outage (never half a page), and a rerun ends with exactly
the provider's records.
"""

from __future__ import annotations

import socket
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from oai_fixtures import delay, make_records
from reliability_fixtures import SOURCE, assert_exact, checkpoint, harvest, source_for, stored
from sqlalchemy import Engine, create_engine, event, select, text, update
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from harvester.config import HarvestConfig, Settings
from harvester.harvest import HarvestResult
from harvester.runner import harvest_sources
from harvester.store.engine import make_engine, migrate, open_store
from harvester.store.models import HarvestRun, Lease

PAGE = 10


def _slow_provider(oai_server: Any, n: int = 300) -> tuple[Any, list[Any]]:
    records = make_records(n, deleted_every=11)
    server = oai_server(records, page_size=PAGE, faults=[delay(0.03, verb="ListRecords", times=None)])
    return server, records


def _in_thread(fn: Callable[[], HarvestResult]) -> tuple[threading.Thread, dict[str, Any]]:
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = fn()
        except BaseException as exc:  # reported by the test, not lost in the thread
            box["error"] = exc

    thread = threading.Thread(target=target, name="reliability-harvest", daemon=True)
    thread.start()
    return thread, box


def _wait_for(predicate: Callable[[], bool], what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.01)


def _committed_pages(engine: Engine) -> int:
    cp = checkpoint(engine)
    return cp.pages if cp is not None else 0


def _assert_whole_pages_only(engine: Engine) -> int:
    """The rows present are exactly the committed pages: never part of a page."""
    pages = _committed_pages(engine)
    assert len(stored(engine)) == pages * PAGE
    return pages


def _runs(engine: Engine) -> list[tuple[str, str | None]]:
    with Session(engine) as s:
        return [(r.status, r.error) for r in s.scalars(select(HarvestRun).order_by(HarvestRun.id))]


# -- PostgreSQL: the backend is terminated inside the page transaction ------------------------

@pytest.mark.postgres
def test_pg_backend_terminated_mid_page_fails_cleanly_then_resumes(pg_url: str, oai_server: Any) -> None:
    server, records = _slow_provider(oai_server)
    engine = open_store(pg_url)
    admin = create_engine(pg_url)
    try:
        src = source_for(server)
        thread, box = _in_thread(lambda: harvest(engine, src))
        _wait_for(lambda: _committed_pages(admin) >= 3, "three committed pages")
        with admin.connect() as locker:
            locker.execute(text("LOCK TABLE raw_records IN ACCESS EXCLUSIVE MODE"))
            me = locker.execute(text("SELECT pg_backend_pid()")).scalar_one()
            blocked: list[int] = []

            def harvester_blocked() -> bool:
                blocked[:] = locker.execute(text(
                    "SELECT pid FROM pg_stat_activity WHERE :me = ANY(pg_blocking_pids(pid))"),
                    {"me": me}).scalars().all()
                return bool(blocked)

            _wait_for(harvester_blocked, "the harvest to wait on the locked table")
            killed = [locker.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar_one()
                      for pid in blocked]
            assert killed and all(killed)
            locker.rollback()
        thread.join(60)
        assert not thread.is_alive() and "error" not in box, box.get("error")
        result: HarvestResult = box["result"]
        assert result.status == "failed"
        assert result.error and result.error.startswith("store failed")
        assert "terminating connection" in result.error
        pages = _assert_whole_pages_only(admin)
        assert 3 <= pages < len(records) // PAGE
        assert _runs(admin)[-1][0] == "failed"  # the store was back in time to record it

        again = harvest(engine, src)
        assert again.status == "ok", again.error
        assert again.records == len(records) - pages * PAGE  # resumed at the checkpoint
        assert_exact(admin, records)
    finally:
        engine.dispose()
        admin.dispose()


# -- PostgreSQL unreachable: the network path to it is cut, then restored ----------------------

class TcpProxy:
    """A TCP relay to the database that a test can cut (all connections dropped, new ones
    refused) and restore on the same port, as when a database host reboots."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.port = 0
        self._listener: socket.socket | None = None
        self._sockets: set[socket.socket] = set()
        self._lock = threading.Lock()
        self.accepted = 0

    def up(self) -> TcpProxy:
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(32)
        self.port = listener.getsockname()[1]
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()
        return self

    def down(self) -> None:
        listener, self._listener = self._listener, None
        if listener is not None:
            try:  # wakes the thread blocked in accept(); close() alone would not on Linux
                listener.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            listener.close()
        with self._lock:
            doomed, self._sockets = self._sockets, set()
        for sock in doomed:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()

    def _accept(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._sockets.update((client, upstream))
                self.accepted += 1
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (src, dst):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


@pytest.fixture
def pg_proxy(pg_url: str) -> Iterator[tuple[TcpProxy, str]]:
    url = make_url(pg_url)
    proxy = TcpProxy((url.host or "127.0.0.1", url.port or 5432)).up()
    yield proxy, url.set(host="127.0.0.1", port=proxy.port).render_as_string(hide_password=False)
    proxy.down()


@pytest.mark.postgres
def test_pg_unreachable_mid_run_fails_cleanly_then_resumes(pg_url: str, pg_proxy: Any,
                                                          oai_server: Any) -> None:
    proxy, via_proxy = pg_proxy
    server, records = _slow_provider(oai_server)
    engine = open_store(via_proxy)
    admin = create_engine(pg_url)  # straight to the server: the test's own view
    settings = Settings(store=via_proxy, harvest=HarvestConfig(concurrency=1))
    src = source_for(server)
    try:
        thread, box = _in_thread(lambda: harvest_sources(settings, engine, [src])[0])
        _wait_for(lambda: _committed_pages(admin) >= 3, "three committed pages")
        proxy.down()
        thread.join(60)
        assert not thread.is_alive()
        assert "error" not in box, f"the outage escaped as an exception: {box.get('error')!r}"
        result: HarvestResult = box["result"]
        assert result.status == "failed"
        assert result.error and result.error.startswith("store failed")
        pages = _assert_whole_pages_only(admin)
        assert 3 <= pages < len(records) // PAGE
        assert _runs(admin)[-1][0] == "running"  # nobody could record the end: still 'running'

        proxy.up()
        # the lease could not be released during the outage; by design it expires (TTL)
        [refused] = harvest_sources(settings, engine, [src])
        assert refused.status == "failed" and "lease held" in (refused.error or "")
        with admin.begin() as conn:  # the TTL passes
            conn.execute(update(Lease).values(expires_at=0.0))
        [again] = harvest_sources(settings, engine, [src])
        assert again.status == "ok", again.error
        assert again.records == len(records) - pages * PAGE
        assert_exact(admin, records)
        statuses = _runs(admin)
        assert statuses[-1][0] == "ok"
        assert statuses[-2][0] == "failed" and "interrupted" in (statuses[-2][1] or "")
    finally:
        engine.dispose()
        admin.dispose()


# -- SQLite: another process keeps the write lock ------------------------------------------------

def test_sqlite_locked_mid_run_fails_cleanly_then_resumes(tmp_path: Path, oai_server: Any) -> None:
    server, records = _slow_provider(oai_server)
    path = tmp_path / "store.db"
    engine = make_engine(f"sqlite:///{path}")
    # the 60 s busy timeout of production would make this test wait a minute
    event.listen(engine, "connect", lambda conn, _rec: conn.execute("PRAGMA busy_timeout=300"))
    migrate(engine)
    settings = Settings(store=f"sqlite:///{path}", harvest=HarvestConfig(concurrency=1))
    src = source_for(server)
    try:
        thread, box = _in_thread(lambda: harvest(engine, src))
        _wait_for(lambda: _committed_pages(engine) >= 3, "three committed pages")
        locker = sqlite3.connect(path, timeout=10, isolation_level=None)
        try:
            locker.execute("BEGIN EXCLUSIVE")
            thread.join(60)
        finally:
            locker.rollback()
            locker.close()
        assert not thread.is_alive() and "error" not in box, box.get("error")
        result: HarvestResult = box["result"]
        assert result.status == "failed"
        assert result.error and result.error.startswith("store failed")
        assert "database is locked" in result.error
        pages = _assert_whole_pages_only(engine)
        assert 3 <= pages < len(records) // PAGE

        [again] = harvest_sources(settings, engine, [src])
        assert again.status == "ok", again.error
        assert again.records == len(records) - pages * PAGE
        assert_exact(engine, records)
        assert [s for s, _ in _runs(engine)] == ["failed", "ok"]
    finally:
        engine.dispose()


def test_store_unusable_at_start_is_a_store_error(tmp_path: Path, oai_server: Any) -> None:
    """No request is sent, and the error names the store, when it cannot even be opened."""
    from harvester.config import parse_settings
    from harvester.errors import StoreError
    from harvester.pipeline import run_harvest

    server, _records = _slow_provider(oai_server, 20)
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("a file where the store's folder should be")
    settings = parse_settings(f"""
store: "sqlite:///{blocker}/sub/store.db"
sources:
  {SOURCE}:
    url: {server.base_url}
    partner: {{name: Test partner, country: MN}}
""", "test.yaml")
    with pytest.raises(StoreError, match="cannot create the store's folder"):
        run_harvest(settings, [])
    assert server.requests == []
