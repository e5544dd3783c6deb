"""Harvest several sources at once: one thread per source, one connection pool per host."""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from sqlalchemy import Engine

from harvester.config import Settings, SourceConfig
from harvester.errors import ConfigError
from harvester.harvest import Harvester, HarvestResult, PageSink, Progress
from harvester.oai.client import HostPools

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


def harvest_sources(settings: Settings, engine: Engine, sources: Sequence[SourceConfig], *,
                    full: bool = False, allow_mass_delete: bool = False,
                    sink: PageSink | None = None, progress: Progress | None = None,
                    stop: threading.Event | None = None) -> list[HarvestResult]:
    """Harvest the sources concurrently; results come back in the order given."""
    with HostPools(user_agent=settings.harvest.user_agent) as pools:
        harvester = Harvester(engine, pools=pools, settings=settings.harvest, sink=sink,
                              progress=progress, stop=stop)
        workers = max(1, min(settings.harvest.concurrency, len(sources)))
        if workers == 1:
            return [harvester.harvest(s, full=full, allow_mass_delete=allow_mass_delete)
                    for s in sources]
        with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="harvest") as pool:
            futures = [pool.submit(harvester.harvest, s, full=full, allow_mass_delete=allow_mass_delete)
                       for s in sources]
            return [f.result() for f in futures]
