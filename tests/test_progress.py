"""Progress: a terminal line, a log line a minute per source, and the counts so far in the store."""

from __future__ import annotations

import io
import logging
import os
import pty
import re
import subprocess
import sys
import threading
import time

from oai_fixtures import _fault, delay, make_records
from sqlalchemy import select
from sqlalchemy.orm import Session

import harvester.harvest as harvest_module
import harvester.progress as progress_module
from harvester.config import parse_settings
from harvester.pipeline import run_harvest
from harvester.progress import LogProgress, TerminalProgress
from harvester.store.engine import open_store
from harvester.store.models import HarvestRun


def test_progress_line_shows_each_source_and_is_cleared() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out, interval_s=0.0)
    progress.update("vn-vicas", pages=3, records=300, total=4147)
    progress.update("kr-nihc", pages=1, records=50, total=None)
    text = out.getvalue()
    assert text.startswith("\r")
    last = text.rsplit("\r", 1)[-1]
    assert "vn-vicas: 300/4,147 records, 3 pages" in last
    assert "kr-nihc: 50 records, 1 pages" in last
    progress.close()
    assert out.getvalue().endswith("\r")
    assert out.getvalue().rsplit("\r", 2)[-2].strip() == ""


def test_a_job_without_pages_shows_records_and_total_only() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out, interval_s=0.0)
    progress.update("remap", pages=None, records=45_000, total=100_000)
    assert out.getvalue().startswith("\rremap: 45,000/100,000 records, ")
    assert "pages" not in out.getvalue()


def test_progress_is_throttled() -> None:
    out = io.StringIO()
    progress = TerminalProgress(out, interval_s=3600.0)
    progress.update("a", pages=1, records=1, total=None)
    progress.update("a", pages=2, records=2, total=None)
    assert out.getvalue().count("\r") == 1


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_log_progress_says_source_counts_and_rate_once_an_interval(caplog) -> None:  # type: ignore[no-untyped-def]
    clock = _Clock()
    progress = LogProgress(60.0, clock=clock)
    caplog.set_level(logging.INFO, logger="ichlinks.harvest")
    progress.update("vn-vicas", pages=1, records=100, total=50_000)  # the first page: no line
    clock.now += 30
    progress.update("vn-vicas", pages=2, records=200, total=50_000)
    assert caplog.messages == []
    clock.now += 31  # 61 s after the first page
    progress.update("vn-vicas", pages=3, records=6_200, total=50_000)
    progress.update("kr-nihc", pages=1, records=50, total=None)  # another source keeps its own time
    clock.now += 59
    progress.update("vn-vicas", pages=4, records=9_000, total=50_000)
    clock.now += 1
    progress.update("kr-nihc", pages=9, records=1_250, total=None)
    assert caplog.messages == [
        "vn-vicas: in progress, 6,200 records in 3 pages so far, 100 records/s; "
        "this list holds 50,000 (completeListSize)",
        "kr-nihc: in progress, 1,250 records in 9 pages so far, 20 records/s",
    ]
    progress.close()
    assert len(caplog.messages) == 2


def _config(store_url: str, tmp_path, source: str, url: str) -> str:  # type: ignore[no-untyped-def]
    return f"""
store: "{store_url}"
search: {{backend: embedded, path: "{tmp_path / 'index'}"}}
sources:
  {source}:
    url: {url}
    defaults: {{category: element}}
"""


def test_a_harvest_off_a_terminal_logs_its_progress(store_url: str, oai_server, tmp_path,  # type: ignore[no-untyped-def]
                                                    monkeypatch, caplog) -> None:
    monkeypatch.setattr(progress_module, "LOG_INTERVAL_S", 0.0)
    server = oai_server(make_records(60), page_size=10, faults=[delay(0.01, times=None)])
    settings = parse_settings(_config(store_url, tmp_path, "kr-progress", server.base_url),
                              "test.yaml")
    caplog.set_level(logging.INFO, logger="ichlinks.harvest")
    [result] = run_harvest(settings, [])
    assert result.status == "ok" and result.records == 60
    lines = [m for m in caplog.messages if "in progress" in m]
    assert lines, caplog.messages
    assert all(m.startswith("kr-progress: in progress, ") for m in lines)
    counts = [int(re.search(r"in progress, ([\d,]+) records in (\d+) pages", m)[1].replace(",", ""))
              for m in lines]
    assert counts == sorted(counts) and 10 < counts[-1] <= 60
    assert "this list holds 60 (completeListSize)" in lines[-1]


def test_a_running_harvest_shows_its_counts_so_far_in_its_run_row(  # type: ignore[no-untyped-def]
        store_url: str, oai_server, tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(harvest_module, "RUN_REFRESH_S", 0.0)
    held, release = threading.Event(), threading.Event()

    def hold(server, exchange) -> None:  # type: ignore[no-untyped-def]
        held.set()
        release.wait(30)
        server.serve_normally(exchange)

    # The second page is held back until the test has looked at the run row.
    server = oai_server(make_records(60), page_size=10,
                        faults=[_fault("hold", hold, verb="ListRecords", token=True, times=1)])
    config = tmp_path / "ichlinks.yaml"
    config.write_text(_config(store_url, tmp_path, "kr-live", server.base_url), encoding="utf-8")
    settings = parse_settings(config.read_text(encoding="utf-8"), str(config))
    results: list = []
    worker = threading.Thread(target=lambda: results.extend(run_harvest(settings, [])))
    worker.start()
    try:
        assert held.wait(30)
        engine = open_store(settings.store)
        deadline = time.monotonic() + 10
        while True:
            with Session(engine) as s:
                run = s.scalars(select(HarvestRun).where(HarvestRun.source == "kr-live")).one()
            if run.records or time.monotonic() > deadline:
                break
            time.sleep(0.05)
        assert (run.status, run.pages, run.records, run.new) == ("running", 1, 10, 10)
        assert run.requests >= 2 and run.ended_at is None
        shown = subprocess.run([sys.executable, "-m", "harvester.cli", "--config", str(config),
                                "status"], capture_output=True, text=True, timeout=60)
        assert shown.returncode == 0, shown.stderr
        assert re.search(r"incremental\s+running\s+10 records so far, 10 new", shown.stdout), shown.stdout
    finally:
        release.set()
        worker.join(60)
    [result] = results
    assert result.status == "ok"
    with Session(engine) as s:
        run = s.scalars(select(HarvestRun).where(HarvestRun.source == "kr-live")).one()
    assert (run.status, run.pages, run.records, run.new) == ("ok", 6, 60, 60)
    engine.dispose()


def _on_a_terminal(args: list[str]) -> tuple[subprocess.CompletedProcess, str]:
    """Run the CLI with stderr on a pseudo-terminal, as an operator's would be."""
    leader, follower = pty.openpty()
    try:
        proc = subprocess.run([sys.executable, "-m", "harvester.cli", *args],
                              stdout=subprocess.PIPE, stderr=follower, text=True, timeout=120)
        os.close(follower)
        shown = b""
        while True:
            try:
                chunk = os.read(leader, 65536)
            except OSError:  # the terminal is closed once everything was read
                break
            if not chunk:
                break
            shown += chunk
    finally:
        os.close(leader)
    return proc, shown.decode()


def test_remap_and_reindex_on_a_terminal_show_a_progress_line(  # type: ignore[no-untyped-def]
        store_url: str, oai_server, tmp_path) -> None:
    server = oai_server(make_records(40, deleted_every=8), page_size=20)
    config = tmp_path / "ichlinks.yaml"
    config.write_text(_config(store_url, tmp_path, "kr-remap", server.base_url), encoding="utf-8")
    [result] = run_harvest(parse_settings(config.read_text(encoding="utf-8"), str(config)), [])
    assert result.records == 40
    proc, shown = _on_a_terminal(["--config", str(config), "remap", "--no-index"])
    assert proc.returncode == 0
    assert "kr-remap: 40 mapped" in proc.stdout
    assert "\rremap: 0/40 records, " in shown
    proc, shown = _on_a_terminal(["--config", str(config), "reindex"])
    assert proc.returncode == 0
    assert "count: 35, expected: 35" in proc.stdout
    assert "\rreindex: 0/35 records, " in shown
