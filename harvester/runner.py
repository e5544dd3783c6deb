"""Harvest several sources at once: one thread per source, one connection pool per host."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from sqlalchemy import Engine, update
from sqlalchemy.orm import Session

from harvester.config import Settings, SourceConfig
from harvester.errors import ConfigError
from harvester.store.checkpoints import utcnow
from harvester.store.leases import hold_lease, lease_holder, new_owner_token
from harvester.store.models import HarvestRun

if TYPE_CHECKING:
    from harvester.harvest import HarvestResult, PageSink, Progress

log = logging.getLogger("ichlinks.harvest")


def select_sources(settings: Settings, names: Sequence[str]) -> list[SourceConfig]:
    """The named sources, or every enabled one; an unknown name is a configuration error."""
    if not names:
        return [s for s in settings.sources.values() if s.enabled]
    unknown = [n for n in names if n not in settings.sources]
    if unknown:
        known = ", ".join(settings.sources) or "none configured"
        raise ConfigError(f"unknown source {unknown[0]!r} (configured: {known})",
                          path=settings.path, key="sources")
    return [settings.sources[n] for n in names]


def lease_name(source: str) -> str:
    """The lease every harvester of a source takes: the CLI, the scheduler, the service."""
    return f"harvest:{source}"


def harvest_sources(settings: Settings, engine: Engine, sources: Sequence[SourceConfig], *,
                    full: bool = False, allow_mass_delete: bool = False,
                    sink: PageSink | None = None, progress: Progress | None = None,
                    stop: threading.Event | None = None,
                    take_leases: bool = True) -> list[HarvestResult]:
    """Harvest the sources concurrently; results come back in the order given.

    Each source is harvested under its database lease, so a manual ``ichlinks harvest`` and
    the scheduler (on any machine sharing the store) never harvest one source twice at once;
    ``take_leases=False`` is for a caller that already holds the lease.
    """
    # Imported here: the OAI client pulls in httpx and sickle, which `remap` and `report`
    # (they only need select_sources) would otherwise pay for at start-up.
    from harvester.harvest import Harvester, HarvestResult
    from harvester.oai.client import HostPools

    stop = stop or threading.Event()
    with HostPools(user_agent=settings.harvest.user_agent) as pools:
        harvester = Harvester(engine, pools=pools, settings=settings.harvest, sink=sink,
                              progress=progress, stop=stop)

        def one(src: SourceConfig) -> HarvestResult:
            if not take_leases:
                close_interrupted_runs(engine, src.name)
                return harvester.harvest(src, full=full, allow_mass_delete=allow_mass_delete)
            with hold_lease(engine, lease_name(src.name), new_owner_token(),
                            on_lost=stop.set) as held:
                if held is None:
                    holder = lease_holder(engine, lease_name(src.name))
                    who = f" by {holder.owner}" if holder else ""
                    return HarvestResult(source=src.name, status="failed", mode="full" if full else "incremental",
                                         error=f"another process is harvesting {src.name} (lease held{who}); "
                                               "not started")
                close_interrupted_runs(engine, src.name)
                return harvester.harvest(src, full=full, allow_mass_delete=allow_mass_delete)

        workers = max(1, min(settings.harvest.concurrency, len(sources)))
        if workers == 1:
            return [one(s) for s in sources]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="harvest") as pool:
            return list(pool.map(one, sources))


def close_interrupted_runs(engine: Engine, source: str) -> int:
    """Runs still 'running' when we hold the source's lease were cut off (kill -9, power loss)."""
    with Session(engine) as s, s.begin():
        result = s.execute(update(HarvestRun)
                           .where(HarvestRun.source == source, HarvestRun.status == "running")
                           .values(status="failed", ended_at=utcnow(),
                                   error="interrupted: the process ended before the run finished; "
                                         "the next run resumed from its checkpoint"))
        return result.rowcount or 0
