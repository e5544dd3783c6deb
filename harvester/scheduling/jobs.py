"""The scheduled job: take the source's lease, run the same pipeline as ``ichlinks harvest``.

Jobs live pickled in the store's job table, so they name a module-level function and
plain arguments (configuration path, source name), never live objects.  What a running
daemon adds (its owner name, lease TTL, stop signal) is found through :class:`JobRuntime`,
installed once per process; outside a daemon the job still works with defaults.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass, field

from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from harvester.config import Settings, load_settings
from harvester.errors import IchlinksError
from harvester.runner import lease_name
from harvester.store.leases import DEFAULT_TTL_S, hold_lease, lease_holder, new_owner_token, process_owner

log = logging.getLogger("ichlinks.schedule")

JOB_PREFIX = "harvest:"

# Outcomes besides the harvest statuses ("ok", "partial", "failed").
HELD = "held"          # another process holds the source's lease: this run is skipped
SKIPPED = "skipped"    # not configured, disabled, or the daemon is stopping
ERROR = "error"        # configuration or store unusable: nothing was harvested


def job_id(source: str) -> str:
    """Stable across restarts and processes, so ``replace_existing`` finds the same job."""
    return f"{JOB_PREFIX}{source}"


@dataclass
class JobRuntime:
    """What one process's jobs share: who we are, the lease TTL, and the stop signal."""

    owner: str = field(default_factory=process_owner)
    lease_ttl_s: float = DEFAULT_TTL_S
    config_path: str | None = None
    stopping: threading.Event = field(default_factory=threading.Event)
    _running: set[threading.Event] = field(default_factory=set)
    _engines: dict[str, Engine] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def stop_event(self) -> threading.Event:
        """A stop event for one run: set by :meth:`stop_all` or when its lease is lost."""
        event = threading.Event()
        with self._lock:
            if self.stopping.is_set():
                event.set()
            self._running.add(event)
        return event

    def finished(self, event: threading.Event) -> None:
        with self._lock:
            self._running.discard(event)

    def stop_all(self) -> None:
        """Every running harvest finishes its current page, commits its checkpoint, returns."""
        with self._lock:
            self.stopping.set()
            for event in self._running:
                event.set()

    def engine(self, url: str) -> Engine:
        """One lease engine per store URL for the life of the process (not one per run)."""
        from harvester.store.engine import open_store

        with self._lock:
            if url not in self._engines:
                self._engines[url] = open_store(url)
            return self._engines[url]

    def close(self) -> None:
        with self._lock:
            engines, self._engines = list(self._engines.values()), {}
        for engine in engines:
            engine.dispose()


_runtime: JobRuntime | None = None
_runtime_lock = threading.Lock()


def install_runtime(runtime: JobRuntime | None) -> None:
    """Make ``runtime`` the one this process's jobs use (None: back to per-call defaults)."""
    global _runtime
    with _runtime_lock:
        _runtime = runtime


def current_runtime() -> JobRuntime | None:
    return _runtime


def harvest_job(config_path: str | None, source: str) -> str:
    """Harvest ``source`` unless another process holds its lease; returns the outcome.

    Inside a daemon its own configuration path wins over the stored one: a job in a
    shared store runs on whichever daemon fires first, and each machine's path is its own.
    The configuration is re-read on every run, so edits to a source's settings apply
    to its next harvest without a restart.
    """
    runtime = current_runtime()
    own_runtime = runtime is None
    if runtime is None:
        runtime = JobRuntime(config_path=config_path)
    path = runtime.config_path if not own_runtime and runtime.config_path is not None else config_path
    try:
        if runtime.stopping.is_set():
            log.info("%s: not started, the scheduler is stopping", source)
            return SKIPPED
        try:
            settings = load_settings(path)
        except IchlinksError as exc:
            log.error("%s: not harvested, configuration unusable: %s", source, exc)
            return ERROR
        config = settings.sources.get(source)
        if config is None or not config.enabled:
            log.warning("%s: not harvested, no longer %s in %s", source,
                        "configured" if config is None else "enabled", settings.path)
            return SKIPPED
        return _run_under_lease(runtime, settings, source)
    finally:
        if own_runtime:
            runtime.close()


def _run_under_lease(runtime: JobRuntime, settings: Settings, source: str) -> str:
    from harvester.pipeline import run_harvest

    name = lease_name(source)
    token = new_owner_token(runtime.owner)
    stop = runtime.stop_event()
    try:
        engine = runtime.engine(settings.store)
        with hold_lease(engine, name, token, runtime.lease_ttl_s, on_lost=stop.set) as held:
            if held is None:
                holder = lease_holder(engine, name)
                log.info("%s: skipped, the lease is held by %s", source,
                         f"{holder.owner} for {max(holder.remaining_s, 0):.0f}s more" if holder
                         else "another process")
                return HELD
            if stop.is_set():
                return SKIPPED
            log.info("%s: lease taken by %s, harvesting", source, token)
            results = run_harvest(settings, [source], stop=stop, take_leases=False)
        result = results[0]
        log.info("%s: %s, %d records (%d new, %d updated, %d deleted)%s", source, result.status,
                 result.records, result.new, result.updated, result.deleted,
                 f": {result.error}" if result.error else "")
        return result.status
    except (IchlinksError, SQLAlchemyError) as exc:
        log.error("%s: not harvested: %s", source, exc)
        return ERROR
    finally:
        runtime.finished(stop)
