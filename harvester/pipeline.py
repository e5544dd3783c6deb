"""The whole job for a set of sources: harvest -> crosswalk -> index relay.

This is what ``ichlinks harvest``, the scheduler and the demo call, so all three behave
the same.  The index relay never decides a harvest's status: if the index is down the
changes stay in the outbox and are applied next time.

On a machine with two or more cores the crosswalk and the relay run in two *follower*
processes beside the harvest: the harvest process fetches, parses and stores raw pages, the
mapper crosswalks what was stored, and the relayer feeds the index from the outbox.  Both only talk through the store
(raw records -> ICH records + outbox), which is exactly the crash-safe path anyway: what the
follower has not reached when the harvest ends is swept up by a final pass.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import threading
from collections.abc import Sequence
from typing import Any

from harvester.config import Settings, SourceConfig
from harvester.crosswalking import CrosswalkStage
from harvester.forking import die_with_parent, fork_is_safe
from harvester.harvest import HarvestResult
from harvester.progress import LogProgress, TerminalProgress
from harvester.relay import relay_outbox
from harvester.runner import harvest_sources, select_sources
from harvester.store.engine import make_engine, open_store
from harvester.store.raw import last_raw_id

log = logging.getLogger("ichlinks.pipeline")

FOLLOW_POLL_S = 0.2
RELAY_BATCH = 1000
RELAY_EVERY_S = 1.0


def run_harvest(settings: Settings, names: Sequence[str], *, full: bool = False,
                allow_mass_delete: bool = False, stop: threading.Event | None = None,
                show_progress: bool = False, relay: bool = True,
                take_leases: bool = True, follower: bool | None = None) -> list[HarvestResult]:
    sources = select_sources(settings, names)
    engine = open_store(settings.store)
    stage = CrosswalkStage(engine, settings)
    if follower is None:
        multi_core = (os.cpu_count() or 1) >= 2
        follower = multi_core and fork_is_safe()
        if multi_core and not follower and threading.active_count() > 1:
            log.info("crosswalk and index relay run in this process: %d other threads are alive, "
                     "and forking beside them is not safe", threading.active_count() - 1)
    use_follower = follower and bool(sources)
    mapper = relayer = None
    mapped = relayed = swept = None
    if use_follower:
        engine.dispose()  # no pooled connection may cross the fork
        ctx = multiprocessing.get_context("fork")
        mapped, relayed, swept = ctx.Event(), ctx.Event(), ctx.Event()
        mapper = ctx.Process(target=_follow_mapping, name="ichlinks-mapper", daemon=True,
                             args=(settings, [s.name for s in sources], mapped, swept, os.getpid()))
        mapper.start()
        if relay:
            relayer = ctx.Process(target=_follow_relay, name="ichlinks-relayer", daemon=True,
                                  args=(settings, relayed, os.getpid()))
            relayer.start()
    progress = TerminalProgress() if show_progress else LogProgress()
    try:
        results = harvest_sources(settings, engine, sources, full=full,
                                  allow_mass_delete=allow_mass_delete,
                                  sink=None if use_follower else stage, progress=progress,
                                  stop=stop, take_leases=take_leases)
    finally:
        progress.close()
        # The harvest is done: the mapper makes its last pass, then the relayer its last relay.
        for proc, finished in ((mapper, mapped), (relayer, relayed)):
            if proc is not None and finished is not None:
                finished.set()
                proc.join(timeout=600)
                if proc.is_alive():
                    proc.kill()
    if use_follower:
        _final_sweep(stage, sources, results,
                     follower_done=swept is not None and swept.is_set())
    if relay:
        _relay(engine, settings, results)
    engine.dispose()
    return results


def _final_sweep(stage: CrosswalkStage, sources: Sequence[SourceConfig],
                 results: Sequence[HarvestResult], *, follower_done: bool = False) -> None:
    """Map whatever the follower did not reach (and everything, if it died).

    The follower reaches every row it can: its first pass looks at the whole source, later
    ones at new rows.  Rows rewritten in place are what it passes by, so a source whose
    harvest rewrote none needs no sweep once the follower has finished all its passes
    (a full scan of the source each run otherwise: ~0.1 s per 50,000 records).
    """
    for src, result in zip(sources, results):
        if follower_done and not result.rewritten:
            continue
        try:
            stage.map_pending(src)
        except Exception as exc:  # a mapping failure must not hide the harvest's own status
            log.exception("%s: crosswalk stage failed", src.name)
            result.notes.append(f"crosswalk stage failed: {exc}")


def _follow_mapping(settings: Settings, names: list[str], finished: Any, swept: Any,
                    parent: int) -> None:
    """Follower process 1: crosswalk newly stored raw records until the harvest is over.

    ``swept`` is set only after a last pass over every source, started after the harvest
    ended, has completed without error.
    """
    die_with_parent(parent)
    engine = make_engine(settings.store)
    stage = CrosswalkStage(engine, settings)
    sources = [settings.sources[n] for n in names]
    cursors = {n: 0 for n in names}
    try:
        while True:
            last_pass = finished.is_set()
            worked = 0
            for src in sources:
                # New raw rows get higher ids; everything up to the ceiling read before this
                # pass has been looked at once it ends, so later passes start above it rather
                # than re-reading a whole unchanged source every poll.  Rows rewritten in
                # place (changed records) are the final sweep's to find.
                with stage.sessions() as s:
                    ceiling = last_raw_id(s, src.name, src.metadata_prefix)
                summary = stage.map_pending(src, after_id=cursors[src.name])
                cursors[src.name] = max(summary.last_id, ceiling)
                worked += summary.mapped
            if last_pass:
                swept.set()
                return
            if os.getppid() != parent:
                return
            if not worked:
                finished.wait(FOLLOW_POLL_S)
    except Exception:
        log.exception("mapper failed; the harvest process maps what is left")
    finally:
        engine.dispose()


def _follow_relay(settings: Settings, finished: Any, parent: int) -> None:
    """Follower process 2: feed the index from the outbox while the mapper fills it.

    Each index commit has a fixed cost, so it relays in rounds, not per change; after an
    index error it stops (the harvest process's final relay reports it).
    """
    from harvester.relay import open_index

    die_with_parent(parent)
    engine = make_engine(settings.store)
    backend = None
    try:
        while True:
            last_round = finished.is_set()
            if backend is None:
                backend = open_index(settings.search)
            report = relay_outbox(engine, settings.search, backend=backend)
            if report["error"] is not None or last_round or os.getppid() != parent:
                return
            if report["applied"] < RELAY_BATCH:
                finished.wait(RELAY_EVERY_S)
    except Exception as exc:
        log.warning("relayer stopped: %s", exc)
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
