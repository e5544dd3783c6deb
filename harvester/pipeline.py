"""The whole job for a set of sources: harvest -> crosswalk -> index relay.

This is what ``ichlinks harvest``, the scheduler and the demo call, so all three behave
the same.  The index relay runs after the harvest and never decides its status: if the
index is down the changes stay in the outbox and are applied next time.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence

from harvester.config import Settings
from harvester.harvest import HarvestResult
from harvester.progress import TerminalProgress
from harvester.runner import harvest_sources, select_sources
from harvester.store.engine import open_store

log = logging.getLogger("ichlinks.pipeline")


def run_harvest(settings: Settings, names: Sequence[str], *, full: bool = False,
                allow_mass_delete: bool = False, stop: threading.Event | None = None,
                show_progress: bool = False, relay: bool = True,
                take_leases: bool = True) -> list[HarvestResult]:
    sources = select_sources(settings, names)
    engine = open_store(settings.store)
    sink = _crosswalk_stage(engine, settings)
    progress = TerminalProgress() if show_progress else None
    try:
        results = harvest_sources(settings, engine, sources, full=full,
                                  allow_mass_delete=allow_mass_delete, sink=sink,
                                  progress=progress, stop=stop, take_leases=take_leases)
    finally:
        if progress is not None:
            progress.close()
    if relay:
        _relay(engine, settings, results)
    engine.dispose()
    return results


def _crosswalk_stage(engine, settings):  # type: ignore[no-untyped-def]
    try:
        from harvester.crosswalking import CrosswalkStage
    except ImportError:
        return None
    return CrosswalkStage(engine, settings)


def _relay(engine, settings, results) -> None:  # type: ignore[no-untyped-def]
    try:
        from harvester.relay import relay_outbox
    except ImportError:
        return
    report = relay_outbox(engine, settings.search)
    for r in results:
        if report.get("error"):
            r.notes.append(f"index not updated ({report['error']}); {report.get('pending', 0)} "
                           "changes wait in the outbox")
