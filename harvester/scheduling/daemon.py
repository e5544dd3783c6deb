"""The ``ichlinks schedule`` process: APScheduler 3 with its jobs in the store.

Jobs are kept in the store's own database (table ``scheduler_jobs``) so that next-run
times survive restarts and a missed run is caught up once (``coalesce``) within the
misfire grace time.  Several daemons may share the store: each fires due jobs, and the
source lease (:mod:`harvester.store.leases`) lets exactly one of them harvest.

Signals are only noted by their handlers; the main thread acts on them, because a signal
handler runs between two bytecodes of the main thread and must not take locks that the
interrupted code may hold.  SIGTERM/SIGINT stop every harvest after its current page (the
checkpoint is committed), shut the scheduler down and release the leases; SIGHUP re-reads
the configuration and adds, changes or removes jobs (a new ``store:`` needs a restart).
"""

from __future__ import annotations

import logging
import queue
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor as Pool
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from apscheduler.events import EVENT_JOB_ERROR, EVENT_JOB_EXECUTED, JobExecutionEvent
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from apscheduler.jobstores.base import JobLookupError
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from sqlalchemy import Engine, inspect
from sqlalchemy.exc import SQLAlchemyError

from harvester.config import Settings, SourceConfig, load_settings
from harvester.errors import IchlinksError
from harvester.scheduling.jobs import (HELD, JOB_PREFIX, SKIPPED, JobRuntime, harvest_job,
                                       install_runtime, job_id)
from harvester.store.leases import DEFAULT_TTL_S
from harvester.scheduling.triggers import describe_schedule, trigger_for
from harvester.store.engine import open_store

log = logging.getLogger("ichlinks.schedule")

JOB_TABLE = "scheduler_jobs"
JOB_FUNC_REF = f"{harvest_job.__module__}:{harvest_job.__qualname__}"
DEFAULT_MISFIRE_GRACE_S = 3600
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _StoreJobStore(SQLAlchemyJobStore):
    """The job table on the store's engine, which outlives the scheduler's own shutdown.

    APScheduler disposes the engine before joining its scheduler thread, which may still
    be mid-query; the daemon disposes it after the thread has ended instead.
    """

    def shutdown(self) -> None:
        pass


@dataclass
class SyncReport:
    """What :meth:`SchedulerDaemon.sync_jobs` did to the job table, by job id."""

    added: list[str] = field(default_factory=list)
    replaced: list[str] = field(default_factory=list)
    kept: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)


def scheduled_sources(settings: Settings) -> list[SourceConfig]:
    """Enabled sources with a ``schedule:``; the others are harvested only by hand."""
    return [s for s in settings.sources.values() if s.enabled and s.schedule is not None]


class SchedulerDaemon:
    """One scheduler process; :meth:`start`, then :meth:`serve_forever` or :meth:`stop`."""

    def __init__(self, config_path: str | None = None, *, lease_ttl_s: float = DEFAULT_TTL_S,
                 misfire_grace_s: int = DEFAULT_MISFIRE_GRACE_S, owner: str | None = None,
                 poll_s: float = 0.2) -> None:
        self.config_path = config_path
        self.misfire_grace_s = misfire_grace_s
        self.poll_s = poll_s
        self.runtime = JobRuntime(lease_ttl_s=lease_ttl_s)
        if owner is not None:
            self.runtime.owner = owner
        self.settings: Settings | None = None
        self.scheduler: BackgroundScheduler | None = None
        self._engine: Engine | None = None
        self._pending_signals: list[int] = []
        self._finished: queue.SimpleQueue[str] = queue.SimpleQueue()

    # -- configuration ----------------------------------------------------------------
    def _load(self) -> Settings:
        settings = load_settings(self.config_path)
        # Jobs store an absolute path: the daemon may be restarted from another directory.
        self.runtime.config_path = (str(Path(settings.path).resolve()) if settings.path
                                    else self.config_path)
        return settings

    # -- life cycle -------------------------------------------------------------------
    def start(self, *, run_now: bool = False) -> SyncReport:
        """Open the store and the job table, bring the jobs in line with the configuration,
        and start firing them (all of them at once first, with ``run_now``)."""
        settings = self._load()
        engine = open_store(settings.store)
        self._engine = engine
        jobstore = _StoreJobStore(engine=engine, tablename=JOB_TABLE)
        _create_job_table(jobstore)
        self.scheduler = BackgroundScheduler(
            jobstores={"default": jobstore},
            executors={"default": ThreadPoolExecutor(max_workers=settings.harvest.concurrency)},
            job_defaults={"coalesce": True, "max_instances": 1,
                          "misfire_grace_time": self.misfire_grace_s},
            timezone=timezone.utc)
        self.scheduler.add_listener(self._on_job_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)
        install_runtime(self.runtime)
        self.scheduler.start(paused=True)
        self.settings = settings
        report = self.sync_jobs(settings)
        if run_now:
            self.run_all_now()
        self.scheduler.resume()
        log.info("scheduler %s started with %d jobs (%s)", self.runtime.owner, len(self.jobs()),
                 settings.path or "no configuration file")
        if not scheduled_sources(settings):
            log.warning("no enabled source has a schedule: nothing will be harvested")
        self.log_next_runs()
        return report

    def jobs(self) -> list[Job]:
        assert self.scheduler is not None, "start() first"
        return [j for j in self.scheduler.get_jobs() if j.id.startswith(JOB_PREFIX)]

    def sync_jobs(self, settings: Settings) -> SyncReport:
        """One job per scheduled source; jobs of removed or unscheduled sources go.

        A job whose schedule did not change is kept as it is, with its stored next run:
        replacing it would restart its interval on every restart and forget a missed run.
        """
        assert self.scheduler is not None, "start() first"
        report = SyncReport()
        existing = {j.id: j for j in self.jobs()}
        wanted = {job_id(s.name): s for s in scheduled_sources(settings)}
        for jid, source in wanted.items():
            assert source.schedule is not None
            name = f"{jid} {describe_schedule(source.schedule)}"
            args = (self.runtime.config_path, source.name)
            old = existing.get(jid)
            if (old is not None and old.name == name and tuple(old.args) == args
                    and old.func_ref == JOB_FUNC_REF and old.misfire_grace_time == self.misfire_grace_s):
                report.kept.append(jid)
                continue
            self.scheduler.add_job(harvest_job, trigger=trigger_for(source.schedule), args=args,
                                   id=jid, name=name, replace_existing=True, coalesce=True,
                                   max_instances=1, misfire_grace_time=self.misfire_grace_s)
            (report.replaced if old is not None else report.added).append(jid)
        for jid in sorted(existing.keys() - wanted.keys()):
            try:
                self.scheduler.remove_job(jid)
            except JobLookupError:  # another daemon removed it first
                pass
            report.removed.append(jid)
        for verb, ids in (("added", report.added), ("changed", report.replaced),
                          ("removed", report.removed)):
            if ids:
                log.info("jobs %s: %s", verb, ", ".join(ids))
        return report

    def run_all_now(self) -> None:
        """Make every job due now (they still go through their leases)."""
        assert self.scheduler is not None, "start() first"
        now = datetime.now(timezone.utc)
        for job in self.jobs():
            self.scheduler.modify_job(job.id, next_run_time=now)

    def reload(self) -> SyncReport | None:
        """Re-read the configuration and resync the jobs; a broken file keeps the old jobs."""
        try:
            settings = self._load()
        except IchlinksError as exc:
            log.error("configuration not reloaded, keeping the current jobs: %s", exc)
            return None
        if self.settings is not None and settings.store != self.settings.store:
            log.warning("store changed in the configuration: takes effect on restart")
        try:
            report = self.sync_jobs(settings)
        except IchlinksError as exc:
            log.error("jobs not updated from the reloaded configuration: %s", exc)
            return None
        self.settings = settings
        self.log_next_runs()
        return report

    def log_next_runs(self) -> None:
        for job in self.jobs():
            self._log_next_run(job)

    @staticmethod
    def _log_next_run(job: Job) -> None:
        when = job.next_run_time.isoformat(timespec="seconds") if job.next_run_time else "never"
        log.info("%s: next run %s (%s)", job.id[len(JOB_PREFIX):], when, job.name)

    def _on_job_event(self, event: JobExecutionEvent) -> None:
        # Runs in a worker thread; no scheduler calls here (shutdown() holds its locks while
        # waiting for the workers), so the main loop reports the next run instead.
        if event.exception is not None:
            log.error("%s: job failed: %r", event.job_id, event.exception)
        self._finished.put(event.job_id)

    def request_stop(self) -> None:
        """Ask :meth:`serve_forever` to stop, as SIGTERM does (safe from any thread)."""
        self._pending_signals.append(signal.SIGTERM)

    def serve_forever(self) -> int:
        """Run until SIGTERM/SIGINT (or :meth:`request_stop`); exit status 0 after a clean stop."""
        restore = self._install_signal_handlers()
        try:
            while True:
                pending, self._pending_signals = self._pending_signals, []
                if any(sig in STOP_SIGNALS for sig in pending):
                    name = signal.Signals(next(s for s in pending if s in STOP_SIGNALS)).name
                    log.info("%s: stopping after the current page of each running harvest", name)
                    break
                if signal.SIGHUP in pending:
                    log.info("SIGHUP: reloading %s", self.runtime.config_path)
                    self.reload()
                self._report_finished()
                time.sleep(self.poll_s)
        finally:
            self.stop()
            restore()
        return 0

    def _report_finished(self) -> None:
        assert self.scheduler is not None
        while True:
            try:
                jid = self._finished.get_nowait()
            except queue.Empty:
                return
            job = self.scheduler.get_job(jid)
            if job is not None:
                self._log_next_run(job)

    def stop(self) -> None:
        """Stop the harvests after their current page, wait for them, release the leases."""
        self.runtime.stop_all()
        if self.scheduler is not None and self.scheduler.running:
            self.scheduler.shutdown(wait=True)
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None
        install_runtime(None)
        self.runtime.close()
        log.info("scheduler %s stopped", self.runtime.owner)

    def run_once(self) -> dict[str, str]:
        """Harvest every scheduled source once, now, under its lease; outcome per source.

        For cron-driven setups and tests: no job table, no waiting for triggers.
        """
        settings = self._load()
        self.settings = settings
        names = [s.name for s in scheduled_sources(settings)]
        install_runtime(self.runtime)
        restore = self._install_signal_handlers()
        try:
            with Pool(max_workers=max(1, settings.harvest.concurrency), thread_name_prefix="once") as pool:
                futures = {n: pool.submit(harvest_job, self.runtime.config_path, n) for n in names}
                while not all(f.done() for f in futures.values()):
                    if any(sig in STOP_SIGNALS for sig in self._pending_signals):
                        self.runtime.stop_all()
                    time.sleep(self.poll_s)
                return {n: f.result() for n, f in futures.items()}
        finally:
            restore()
            install_runtime(None)
            self.runtime.close()

    def _install_signal_handlers(self) -> Callable[[], None]:
        if threading.current_thread() is not threading.main_thread():
            return lambda: None

        def note(signum: int, _frame: Any) -> None:
            self._pending_signals.append(signum)

        wanted = (*STOP_SIGNALS, signal.SIGHUP)
        old = {sig: signal.signal(sig, note) for sig in wanted}

        def restore() -> None:
            for sig, handler in old.items():
                signal.signal(sig, handler)

        return restore


def once_exit_code(outcomes: dict[str, str], stopped: bool = False) -> int:
    """0 when every source was harvested ("ok") or left to the process holding its lease."""
    fine = {"ok", HELD, SKIPPED} | ({"partial"} if stopped else set())
    return 0 if all(o in fine for o in outcomes.values()) else 1


def _create_job_table(jobstore: SQLAlchemyJobStore) -> None:
    """Create the job table, tolerating a second daemon creating it at the same moment."""
    try:
        jobstore.jobs_t.create(jobstore.engine, checkfirst=True)
    except SQLAlchemyError:
        if not inspect(jobstore.engine).has_table(jobstore.jobs_t.name):
            raise
