"""The whole job for a set of sources: harvest -> crosswalk -> index relay.

This is what ``ichlinks harvest``, the scheduler and the demo call, so all three behave
the same.  The index relay never decides a harvest's status: if the index is down the
changes stay in the outbox and are applied next time.

On a machine with two or more cores the crosswalk and the relay run in a *follower*
process beside the harvest: the harvest process fetches, parses and stores raw pages while
the follower maps what was stored and feeds the index.  Both only talk through the store
(raw records -> ICH records + outbox), which is exactly the crash-safe path anyway: what the
follower has not reached when the harvest ends is swept up by a final pass.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Sequence
from typing import Any

from harvester.config import Settings, SourceConfig
from harvester.crosswalking import CrosswalkStage
from harvester.harvest import HarvestResult
from harvester.progress import TerminalProgress
from harvester.relay import relay_outbox
from harvester.runner import harvest_sources, select_sources
from harvester.store.engine import make_engine, open_store

log = logging.getLogger("ichlinks.pipeline")

FOLLOW_POLL_S = 0.2
RELAY_BATCH = 2000
RELAY_EVERY_S = 5.0


def run_harvest(settings: Settings, names: Sequence[str], *, full: bool = False,
                allow_mass_delete: bool = False, stop: threading.Event | None = None,
                show_progress: bool = False, relay: bool = True,
                take_leases: bool = True, follower: bool | None = None) -> list[HarvestResult]:
    sources = select_sources(settings, names)
    engine = open_store(settings.store)
    stage = CrosswalkStage(engine, settings)
    use_follower = (follower if follower is not None else (os.cpu_count() or 1) >= 2) and bool(sources)
    follower_proc = done = None
    if use_follower:
        engine.dispose()  # no pooled connection may cross the fork
        ctx = multiprocessing.get_context("fork")
        done = ctx.Event()
        follower_proc = ctx.Process(target=_follow, name="ichlinks-follower", daemon=True,
                                    args=(settings, [s.name for s in sources], done, relay))
        follower_proc.start()
    progress = TerminalProgress() if show_progress else None
    try:
        results = harvest_sources(settings, engine, sources, full=full,
                                  allow_mass_delete=allow_mass_delete,
                                  sink=None if use_follower else stage, progress=progress,
                                  stop=stop, take_leases=take_leases)
    finally:
        if progress is not None:
            progress.close()
        if follower_proc is not None and done is not None:
            done.set()
            follower_proc.join(timeout=600)
            if follower_proc.is_alive():
                follower_proc.kill()
    if use_follower:
        _final_sweep(stage, sources, results)
    if relay:
        _relay(engine, settings, results)
    engine.dispose()
    return results


def _final_sweep(stage: CrosswalkStage, sources: Sequence[SourceConfig],
                 results: Sequence[HarvestResult]) -> None:
    """Map whatever the follower did not reach (and everything, if it died)."""
    for src, result in zip(sources, results):
        try:
            stage.map_pending(src)
        except Exception as exc:  # a mapping failure must not hide the harvest's own status
            log.exception("%s: crosswalk stage failed", src.name)
            result.notes.append(f"crosswalk stage failed: {exc}")


def _follow(settings: Settings, names: list[str], done: Any, relay: bool) -> None:
    """The follower process: map newly stored raw records and relay them, until told to stop."""
    parent = os.getppid()
    engine = make_engine(settings.store)
    stage = CrosswalkStage(engine, settings)
    sources = [settings.sources[n] for n in names]
    cursors = {n: 0 for n in names}
    backend = None
    index_ok = relay
    queued, last_relay = 0, time.monotonic()
    try:
        while True:
            finishing = done.is_set()
            worked = 0
            for src in sources:
                summary = stage.map_pending(src, after_id=cursors[src.name])
                cursors[src.name] = summary.last_id
                worked += summary.mapped
                queued += summary.changed
            # Each index commit has a fixed cost: relay in large batches, or when the harvest
            # ends, or when changes have waited a few seconds.
            due = finishing or queued >= RELAY_BATCH or (
                queued and time.monotonic() - last_relay >= RELAY_EVERY_S)
            if index_ok and due:
                queued, last_relay = 0, time.monotonic()
                try:
                    if backend is None:
                        from harvester.relay import open_index

                        backend = open_index(settings.search)
                    report = relay_outbox(engine, settings.search, backend=backend)
                    worked += report["applied"]
                    index_ok = report["error"] is None
                except Exception as exc:  # the parent's final relay reports index trouble
                    log.warning("follower: index relay paused: %s", exc)
                    index_ok = False
            if finishing or os.getppid() != parent:
                return
            if not worked:
                done.wait(FOLLOW_POLL_S)
    except Exception:
        log.exception("follower failed; the harvest process maps and relays what is left")
    finally:
        if backend is not None:
            backend.close()
        engine.dispose()


def _relay(engine, settings, results) -> None:  # type: ignore[no-untyped-def]
    report = relay_outbox(engine, settings.search)
    for r in results:
        if report.get("error"):
            r.notes.append(f"index not updated ({report['error']}); {report.get('pending', 0)} "
                           "changes wait in the outbox")
