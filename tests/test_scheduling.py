"""The scheduler: triggers, the job table, the harvest job, and real ``ichlinks schedule`` daemons.

The daemon tests start real processes against one store and a slow provider, because
what matters (two daemons never harvesting one source at once, a clean SIGTERM) only
shows across processes.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from oai_fixtures import delay, make_records
from sqlalchemy import Engine, create_engine, func, inspect, select
from sqlalchemy.orm import Session

from harvester.config import Schedule, load_settings
from harvester.pipeline import run_harvest
from harvester.scheduling import (HELD, JOB_TABLE, SKIPPED, SchedulerDaemon, acquire_lease,
                                  crontab_weekdays, harvest_job, lease_holder, trigger_for)
from harvester.scheduling.daemon import JOB_FUNC_REF
from harvester.scheduling.jobs import ERROR
from harvester.scheduling.triggers import cron_trigger
from harvester.store.engine import open_store
from harvester.store.models import Checkpoint, HarvestRun, Lease, RawRecord

UTC = timezone.utc
# Not ``-m harvester.cli``: that runs the CLI as ``__main__``, a second copy of the module
# whose Context class the lazily loaded ``schedule`` command (bound to harvester.cli) rejects.
ICHLINKS = [sys.executable, "-c", "import sys; from harvester.cli import main; sys.exit(main())"]

# --------------------------------------------------------------------------
# Triggers
# --------------------------------------------------------------------------


@pytest.mark.parametrize(("field", "expected"), [
    ("0", "sun"), ("7", "sun"), ("1", "mon"), ("6", "sat"),
    ("1-5", "mon,tue,wed,thu,fri"), ("5-7", "fri,sat,sun"), ("0-6", "*"), ("*", "*"),
    ("*/2", "tue,thu,sat,sun"), ("1-5/2", "mon,wed,fri"), ("sat,0", "sat,sun"),
    ("mon-fri", "mon,tue,wed,thu,fri"), ("SUN", "sun"),
])
def test_crontab_weekday_numbers_are_crontabs_not_apschedulers(field: str, expected: str) -> None:
    assert crontab_weekdays(field) == expected


@pytest.mark.parametrize("field", ["8", "fri-mon", "5-1", "*/0", "funday", ""])
def test_bad_weekday_fields_are_refused(field: str) -> None:
    with pytest.raises(ValueError):
        crontab_weekdays(field)


def test_cron_sunday_means_sunday() -> None:
    monday = datetime(2024, 1, 1, 12, 0, tzinfo=UTC)  # a Monday
    ours = cron_trigger("0 2 * * 0").get_next_fire_time(None, monday)
    assert ours == datetime(2024, 1, 7, 2, 0, tzinfo=UTC)
    assert ours.strftime("%A") == "Sunday"
    # The quirk being worked around: APScheduler 3 reads 0 as Monday.
    theirs = CronTrigger.from_crontab("0 2 * * 0", timezone="UTC").get_next_fire_time(None, monday)
    assert theirs.strftime("%A") == "Monday"


def test_cron_weekdays_skip_the_weekend() -> None:
    friday = datetime(2024, 1, 5, 23, 0, tzinfo=UTC)
    assert cron_trigger("30 6 * * 1-5").get_next_fire_time(None, friday) == datetime(
        2024, 1, 8, 6, 30, tzinfo=UTC)


def test_triggers_from_schedules_carry_interval_and_jitter() -> None:
    interval = trigger_for(Schedule(interval_s=21600, jitter_s=0))
    assert isinstance(interval, IntervalTrigger)
    assert interval.interval == timedelta(hours=6) and interval.jitter is None
    jittered = trigger_for(Schedule(interval_s=60, jitter_s=30))
    assert jittered.jitter == 30
    cron = trigger_for(Schedule(cron="15 3 * * *", jitter_s=600))
    assert isinstance(cron, CronTrigger) and cron.jitter == 600
    start = datetime(2024, 3, 1, 0, 0, tzinfo=UTC)
    first = cron.get_next_fire_time(None, start)
    assert first is not None
    assert datetime(2024, 3, 1, 3, 15, tzinfo=UTC) <= first <= datetime(2024, 3, 1, 3, 25, tzinfo=UTC)


# --------------------------------------------------------------------------
# The job table
# --------------------------------------------------------------------------

UNREACHABLE = "http://127.0.0.1:9/oai"


def _sources_yaml(sources: dict[str, str]) -> str:
    lines = ["sources:"]
    for name, extra in sources.items():
        lines.append(f"  {name}:")
        lines.append(f"    url: {UNREACHABLE}")
        lines.extend(f"    {line}" for line in extra.splitlines() if line)
    return "\n".join(lines) + "\n"


def _write(path: Path, store_url: str, tmp_path: Path, sources: dict[str, str]) -> Path:
    path.write_text(f'store: "{store_url}"\n'
                    f'search: {{backend: embedded, path: "{tmp_path / "index"}"}}\n'
                    + _sources_yaml(sources), encoding="utf-8")
    return path


FOUR_SOURCES = {
    "kr-cron": 'schedule: {cron: "0 2 * * 0", jitter_s: 0}',
    "vn-interval": "schedule: {interval: 6h, jitter_s: 120}",
    "jp-manual": "",
    "th-disabled": "enabled: false\nschedule: {interval: 1h}",
}


def _jobs_in_table(url: str) -> set[str]:
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table(JOB_TABLE):
                return set()
            return {row[0] for row in conn.exec_driver_sql(f"select id from {JOB_TABLE}")}
    finally:
        engine.dispose()


@pytest.fixture
def daemons() -> Any:
    started: list[SchedulerDaemon] = []

    def make(cfg: Path) -> SchedulerDaemon:
        daemon = SchedulerDaemon(str(cfg))
        started.append(daemon)
        return daemon

    yield make
    for daemon in started:
        if daemon.scheduler is not None and daemon.scheduler.running:
            daemon.stop()


def test_one_job_per_scheduled_enabled_source(store_url: str, tmp_path: Path, daemons: Any) -> None:
    cfg = _write(tmp_path / "ichlinks.yaml", store_url, tmp_path, FOUR_SOURCES)
    daemon = daemons(cfg)
    report = daemon.start()
    assert sorted(report.added) == ["harvest:kr-cron", "harvest:vn-interval"]
    jobs = {j.id: j for j in daemon.jobs()}
    assert set(jobs) == {"harvest:kr-cron", "harvest:vn-interval"}
    for source, job in (("kr-cron", jobs["harvest:kr-cron"]), ("vn-interval", jobs["harvest:vn-interval"])):
        assert job.func_ref == JOB_FUNC_REF
        assert job.args == (str(cfg.resolve()), source)
        assert job.coalesce is True and job.max_instances == 1 and job.misfire_grace_time == 3600
    cron = jobs["harvest:kr-cron"]
    assert isinstance(cron.trigger, CronTrigger)
    assert cron.next_run_time.strftime("%A %H:%M") == "Sunday 02:00"
    interval = jobs["harvest:vn-interval"]
    assert isinstance(interval.trigger, IntervalTrigger)
    assert interval.trigger.interval == timedelta(hours=6) and interval.trigger.jitter == 120
    daemon.stop()
    assert _jobs_in_table(store_url) == {"harvest:kr-cron", "harvest:vn-interval"}, "jobs persist"


def test_restarts_keep_unchanged_jobs_and_sync_changed_ones(store_url: str, tmp_path: Path,
                                                             daemons: Any) -> None:
    cfg = _write(tmp_path / "ichlinks.yaml", store_url, tmp_path, FOUR_SOURCES)
    first = daemons(cfg)
    first.start()
    before = {j.id: j.next_run_time for j in first.jobs()}
    first.stop()
    second = daemons(cfg)
    report = second.start()
    assert sorted(report.kept) == ["harvest:kr-cron", "harvest:vn-interval"]
    assert not report.added and not report.replaced and not report.removed
    assert {j.id: j.next_run_time for j in second.jobs()} == before, "a restart must not reset next runs"
    second.stop()
    _write(cfg, store_url, tmp_path, {"vn-interval": "schedule: {interval: 2h, jitter_s: 0}",
                                      "mn-new": 'schedule: {cron: "30 4 * * *"}'})
    third = daemons(cfg)
    report = third.start()
    assert report.removed == ["harvest:kr-cron"]
    assert report.replaced == ["harvest:vn-interval"] and report.added == ["harvest:mn-new"]
    jobs = {j.id: j for j in third.jobs()}
    assert set(jobs) == {"harvest:vn-interval", "harvest:mn-new"}
    assert jobs["harvest:vn-interval"].trigger.interval == timedelta(hours=2)
    third.stop()
    assert _jobs_in_table(store_url) == {"harvest:vn-interval", "harvest:mn-new"}


def test_reload_resyncs_jobs_and_a_broken_file_keeps_them(tmp_path: Path, daemons: Any) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    cfg = _write(tmp_path / "ichlinks.yaml", url, tmp_path, FOUR_SOURCES)
    daemon = daemons(cfg)
    daemon.start()
    _write(cfg, url, tmp_path, {"kr-cron": 'schedule: {cron: "0 3 * * 6", jitter_s: 0}'})
    report = daemon.reload()
    assert report is not None
    assert report.replaced == ["harvest:kr-cron"] and report.removed == ["harvest:vn-interval"]
    (job,) = daemon.jobs()
    assert job.next_run_time.strftime("%A %H:%M") == "Saturday 03:00"
    cfg.write_text("sources: [not, a, mapping\n", encoding="utf-8")
    assert daemon.reload() is None
    assert [j.id for j in daemon.jobs()] == ["harvest:kr-cron"]


# --------------------------------------------------------------------------
# The harvest job
# --------------------------------------------------------------------------


def _provider_config(path: Path, store_url: str, tmp_path: Path, url: str, *,
                     name: str = "slow-src", interval: str = "1s") -> Path:
    path.write_text(
        f'store: "{store_url}"\n'
        f'search: {{backend: embedded, path: "{tmp_path / "index"}"}}\n'
        "sources:\n"
        f"  {name}:\n"
        f"    url: {url}\n"
        "    partner: {name: Scheduler test partner, country: KR}\n"
        f"    schedule: {{interval: {interval}, jitter_s: 0}}\n"
        "    retries: 2\n"
        "    max_backoff_s: 0.1\n", encoding="utf-8")
    return path


def _runs(engine: Engine, source: str = "slow-src") -> list[HarvestRun]:
    with Session(engine) as s:
        return list(s.scalars(select(HarvestRun).where(HarvestRun.source == source)
                              .order_by(HarvestRun.started_at, HarvestRun.id)))


def test_the_job_harvests_under_the_lease_and_skips_when_it_is_held(
        tmp_path: Path, oai_server: Callable[..., Any]) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    server = oai_server(make_records(12), page_size=5)
    cfg = _provider_config(tmp_path / "ichlinks.yaml", url, tmp_path, server.base_url)
    engine = open_store(url)
    try:
        assert harvest_job(str(cfg), "slow-src") == "ok"
        runs = _runs(engine)
        assert [r.status for r in runs] == ["ok"] and runs[0].records == 12
        assert lease_holder(engine, "harvest:slow-src") is None, "the lease is released after the run"
        requests = len(server.requests)
        assert acquire_lease(engine, "harvest:slow-src", "elsewhere:1/abc", ttl_s=60)
        assert harvest_job(str(cfg), "slow-src") == HELD
        assert len(_runs(engine)) == 1 and len(server.requests) == requests, "a held source is not touched"
        assert harvest_job(str(cfg), "gone-src") == SKIPPED
        assert harvest_job(str(tmp_path / "missing.yaml"), "slow-src") == ERROR
    finally:
        engine.dispose()


def test_schedule_once_reports_each_source_and_respects_the_lease(
        tmp_path: Path, oai_server: Callable[..., Any]) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    server = oai_server(make_records(8), page_size=5)
    cfg = _provider_config(tmp_path / "ichlinks.yaml", url, tmp_path, server.base_url)
    with cfg.open("a", encoding="utf-8") as out:  # a second source, busy elsewhere
        out.write(f"  busy-src:\n    url: {server.base_url}\n    schedule: {{interval: 1h}}\n"
                  "  manual-src:\n    url: http://127.0.0.1:9/oai\n")
    engine = open_store(url)
    try:
        assert acquire_lease(engine, "harvest:busy-src", "elsewhere:1/abc", ttl_s=60)
        done = subprocess.run([*ICHLINKS, "--config", str(cfg), "schedule", "--once"],
                              capture_output=True, text=True, timeout=120)
        assert done.returncode == 0, done.stderr
        lines = [json.loads(line) for line in done.stdout.splitlines()]
        assert lines == [{"source": "slow-src", "outcome": "ok"},
                         {"source": "busy-src", "outcome": "held"}], "manual-src has no schedule"
        assert "slow-src: lease taken by" in done.stderr
        assert "busy-src: skipped, the lease is held by elsewhere:1/abc" in done.stderr
        assert [r.status for r in _runs(engine)] == ["ok"]
        assert _runs(engine, "busy-src") == []
        assert lease_holder(engine, "harvest:slow-src") is None
    finally:
        engine.dispose()


# --------------------------------------------------------------------------
# Real daemons
# --------------------------------------------------------------------------

PAGES = 8
PAGE_SIZE = 5


def _start_daemon(cfg: Path, log: Path, *extra: str) -> subprocess.Popen[bytes]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with log.open("wb") as err:  # the child keeps its own copy of the descriptor
        return subprocess.Popen([*ICHLINKS, "--config", str(cfg), "schedule", *extra],
                                stdout=subprocess.DEVNULL, stderr=err, env=env)


def _wait_until(predicate: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


def _checkpoint(engine: Engine) -> Checkpoint | None:
    with Session(engine) as s:
        return s.get(Checkpoint, ("slow-src", "", "oai_dc"))


def test_two_daemons_never_harvest_one_source_at_once_and_stop_cleanly(
        store_url: str, tmp_path: Path, oai_server: Callable[..., Any]) -> None:
    # Records dated in the future stay inside every incremental window, so every harvest
    # walks all PAGES pages slowly and the two daemons' 1 s intervals keep colliding.
    records = make_records(PAGES * PAGE_SIZE, start=datetime.now(UTC) + timedelta(days=30))
    server = oai_server(records, page_size=PAGE_SIZE, faults=[delay(0.1, times=None)])
    cfg = _provider_config(tmp_path / "ichlinks.yaml", store_url, tmp_path, server.base_url)
    open_store(store_url).dispose()  # migrated up front: two first starts would race the migration
    logs = [tmp_path / "daemon-a.log", tmp_path / "daemon-b.log"]
    procs = [_start_daemon(cfg, log, "--run-now", "--lease-ttl", "5") for log in logs]
    engine = create_engine(store_url)
    try:
        def finished_runs() -> int:
            return sum(1 for r in _runs(engine) if r.status == "ok")

        _wait_until(lambda: finished_runs() >= 2, 60, "two completed harvests")

        def early_in_a_harvest() -> bool:
            cp = _checkpoint(engine)
            return cp is not None and bool(cp.in_progress) and cp.token is not None and 1 <= cp.pages <= 2

        _wait_until(early_in_a_harvest, 30, "a harvest in its first pages")
        for proc in procs:
            proc.send_signal(signal.SIGTERM)
        codes = [proc.wait(timeout=60) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    stderr = [log.read_text(encoding="utf-8", errors="replace") for log in logs]
    assert codes == [0, 0], stderr
    try:
        runs = _runs(engine)
        assert runs and not [r for r in runs if r.status == "running"], "a run was left running"
        assert all(r.ended_at is not None for r in runs)
        assert [r.status for r in runs[:-1]] == ["ok"] * (len(runs) - 1)
        assert runs[-1].status == "partial", "SIGTERM should stop the harvest after a page"
        # Never two harvests of the source at once: each run ended before the next began.
        for earlier, later in zip(runs, runs[1:]):
            assert earlier.ended_at <= later.started_at, (earlier.id, later.id)
        # The provider saw whole chains one after another (overlap would interleave them).
        chains: list[int] = []
        for request in server.requests:
            verb = request.params.get("verb")
            if verb == "Identify":
                chains.append(0)
            elif verb == "ListRecords":
                chains[-1] += 1
        assert len(chains) == len(runs)
        assert chains[:-1] == [PAGES] * (len(chains) - 1)
        assert any("the lease is held by" in text for text in stderr), \
            "the daemons never competed for the lease, so the test proved nothing"
        assert all("next run" in text for text in stderr)
        # Checkpoint of the stopped run: committed up to its last page, token kept.
        cp = _checkpoint(engine)
        assert cp is not None and cp.in_progress and cp.token
        assert cp.pages == runs[-1].pages and 1 <= cp.pages < PAGES
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(Lease)) == 0, "leases left behind"
            assert s.scalar(select(func.count()).select_from(RawRecord)) == len(records)
    finally:
        engine.dispose()
    # The next harvest resumes from that checkpoint's token, not from the start.
    (resumed,) = run_harvest(load_settings(cfg), ["slow-src"], relay=False)
    assert resumed.status == "ok" and resumed.pages == PAGES - cp.pages


def test_sighup_reloads_the_jobs_and_sigint_stops(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    cfg = _write(tmp_path / "ichlinks.yaml", url, tmp_path,
                 {"kr-hourly": "schedule: {interval: 1h, jitter_s: 0}"})
    log = tmp_path / "daemon.log"
    proc = _start_daemon(cfg, log)
    try:
        _wait_until(lambda: "kr-hourly: next run" in log.read_text(), 30, "the daemon to start")
        assert _jobs_in_table(url) == {"harvest:kr-hourly"}
        _write(cfg, url, tmp_path, {"vn-nightly": 'schedule: {cron: "0 1 * * *", jitter_s: 0}'})
        proc.send_signal(signal.SIGHUP)
        _wait_until(lambda: _jobs_in_table(url) == {"harvest:vn-nightly"}, 30, "the reload")
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text()
    assert "jobs removed: harvest:kr-hourly" in text and "jobs added: harvest:vn-nightly" in text
    assert "SIGINT: stopping" in text


def test_a_killed_daemons_lease_expires_and_another_daemon_takes_over(
        tmp_path: Path, oai_server: Callable[..., Any]) -> None:
    url = f"sqlite:///{tmp_path}/store.db"
    records = make_records(PAGES * PAGE_SIZE, start=datetime.now(UTC) + timedelta(days=30))
    server = oai_server(records, page_size=PAGE_SIZE, faults=[delay(0.1, times=None)])
    cfg = _provider_config(tmp_path / "ichlinks.yaml", url, tmp_path, server.base_url)
    open_store(url).dispose()
    engine = create_engine(url)
    procs: list[subprocess.Popen[bytes]] = []
    try:
        procs.append(_start_daemon(cfg, tmp_path / "crashed.log", "--run-now", "--lease-ttl", "2"))

        def mid_harvest() -> bool:
            cp = _checkpoint(engine)
            return cp is not None and bool(cp.in_progress) and cp.pages >= 1

        _wait_until(mid_harvest, 30, "the first daemon to be harvesting")
        procs[0].send_signal(signal.SIGKILL)
        procs[0].wait(timeout=30)
        with Session(engine) as s, s.begin():
            lease = s.get(Lease, "harvest:slow-src")
            assert lease is not None, "a killed daemon cannot release its lease"
            expires_at = lease.expires_at
            # As if the killed daemon ran on another machine: only expiry may free its lease
            # (a dead holder on this host is reclaimed at once; test_leases covers that).
            lease.owner = "another-host.example:1/deadbeef"
        successor_log = tmp_path / "successor.log"
        procs.append(_start_daemon(cfg, successor_log, "--lease-ttl", "2"))
        _wait_until(lambda: any(r.status == "ok" for r in _runs(engine)), 60, "the successor's harvest")
        procs[1].send_signal(signal.SIGTERM)
        assert procs[1].wait(timeout=30) == 0
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    try:
        runs = _runs(engine)
        # The killed run is closed as interrupted by the next holder of the lease.
        assert runs[0].status == "failed" and "interrupted" in (runs[0].error or "")
        assert runs[1].status == "ok"
        assert "running" not in [r.status for r in runs[1:]]
        assert runs[1].started_at.timestamp() >= expires_at, "harvested before the old lease expired"
        with Session(engine) as s:
            assert s.scalar(select(func.count()).select_from(RawRecord)) == len(records)
            assert runs[1].pages < PAGES, "the successor resumed from the killed run's checkpoint"
    finally:
        engine.dispose()
    assert "lease taken by" in successor_log.read_text()
