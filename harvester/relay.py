"""The outbox relay: deliver recorded changes to the search index, then forget them.

The store is written first and the index is a projection of it, so a change that never
reached the index is still in the outbox and is sent next time.  Each op carries the ICH
record's own version, so replays (after a crash between apply and delete) are harmless.
A failed document stays pending, its error kept; nothing is dropped silently.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import orjson
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session, sessionmaker

from harvester.config import SearchConfig
from harvester.store.checkpoints import utcnow
from harvester.store.keyset import keyset_batches
from harvester.store.models import IchRecord, IndexState, Outbox

log = logging.getLogger("ichlinks.index")

# Ops per index write: each batch is one commit (segment flush, fsync, merge check), so
# fewer, larger batches index faster; 1,000 parsed records stay a few MB.
BATCH = 1000
STATE = "search"
# The ICH records a search index holds: what reindex rebuilds from and counts.
PUBLISHED = (IchRecord.deleted.is_(False), IchRecord.quarantined.is_(False))


def search_settings(config: SearchConfig):  # type: ignore[no-untyped-def]
    from indexer import SearchSettings

    return SearchSettings(backend=config.backend, path=config.path, url=config.url, index=config.index,
                          api_key=config.api_key, verify_certs=config.verify_certs)


def open_index(config: SearchConfig):  # type: ignore[no-untyped-def]
    from indexer import open_backend

    return open_backend(search_settings(config))


def _state(s: Session) -> IndexState:
    st = s.get(IndexState, STATE)
    if st is None:
        st = IndexState(name=STATE, applied=0)
        s.add(st)
        s.flush()
    return st


def _ops(s: Session, record_ids: list[str]):  # type: ignore[no-untyped-def]
    from indexer import IndexOp

    # Only the columns an op needs: whole ORM rows would also load and track the
    # diagnostics and provenance of every record in the batch.
    rows = {r.id: r for r in s.connection().execute(
        select(IchRecord.id, IchRecord.version, IchRecord.deleted, IchRecord.quarantined,
               IchRecord.record).where(IchRecord.id.in_(record_ids)))}
    ops = []
    for rid in record_ids:
        row = rows.get(rid)
        if row is not None and not row.deleted and not row.quarantined and row.record:
            ops.append(IndexOp(action="upsert", id=rid, version=row.version,
                               record=orjson.loads(row.record)))
        else:
            ops.append(IndexOp(action="delete", id=rid, version=row.version if row else 2**62))
    return ops


def relay_outbox(engine: Engine, config: SearchConfig, *, backend: Any = None,
                 batch: int = BATCH) -> dict[str, Any]:
    """Apply pending outbox rows in batches; returns applied/failed/pending and any error."""
    sessions = sessionmaker(engine, expire_on_commit=False)
    report: dict[str, Any] = {"applied": 0, "failed": 0, "pending": 0, "error": None, "failures": []}
    own_backend = backend is None
    try:
        if backend is None:
            backend = open_index(config)
    except Exception as exc:  # index unreachable or unusable: the backlog waits
        report["error"] = f"index unavailable: {exc}"
    cursor = 0
    try:
        while report["error"] is None:
            with sessions() as s:
                rows = list(s.connection().execute(
                    select(Outbox.id, Outbox.record_id).where(Outbox.id > cursor)
                    .order_by(Outbox.id).limit(batch)))
                if not rows:
                    break
                max_id = rows[-1][0]
                record_ids = list(dict.fromkeys(r[1] for r in rows))
                ops = _ops(s, record_ids)
            try:
                result = backend.apply(ops)
            except Exception as exc:
                report["error"] = f"index write failed: {exc}"
                break
            with sessions.begin() as s:
                if result.done:
                    s.execute(delete(Outbox).where(Outbox.id <= max_id, Outbox.id > cursor,
                                                   Outbox.record_id.in_(result.done)))
                for rid, reason in result.failed:
                    s.execute(update(Outbox).where(Outbox.id <= max_id, Outbox.id > cursor,
                                                   Outbox.record_id == rid)
                              .values(attempts=Outbox.attempts + 1, last_error=reason[:2000]))
                st = _state(s)
                st.last_run_at = utcnow()
                st.applied = (st.applied or 0) + len(result.done)
                if not result.failed:
                    st.last_success_at = st.last_run_at
            report["applied"] += len(result.done)
            report["failed"] += len(result.failed)
            report["failures"].extend({"id": rid, "reason": reason} for rid, reason in result.failed[:20])
            cursor = max_id
        if report["failed"] and report["error"] is None:
            report["error"] = f"{report['failed']} documents failed to index; they stay pending"
    finally:
        if own_backend and backend is not None:
            backend.close()
    with sessions.begin() as s:
        st = _state(s)
        st.last_run_at = utcnow()
        if report["error"]:
            st.last_error = report["error"]
            log.error("index: %s", report["error"])
        report["pending"] = s.scalar(select(func.count()).select_from(Outbox)) or 0
    return report


def index_status(engine: Engine, config: SearchConfig) -> dict[str, Any]:
    """Backlog, last error and the backend's own view, for ``ichlinks index status``."""
    with Session(engine) as s:
        pending = s.scalar(select(func.count()).select_from(Outbox)) or 0
        oldest = s.scalar(select(func.min(Outbox.created_at)))
        failing = s.scalar(select(func.count()).select_from(Outbox).where(Outbox.attempts > 0)) or 0
        published = s.scalar(select(func.count()).select_from(IchRecord).where(*PUBLISHED)) or 0
        st = s.get(IndexState, STATE)
    out: dict[str, Any] = {
        "backend": config.backend, "pending": pending, "failing": failing,
        "oldest_pending": oldest.isoformat() if oldest else None,
        "published_records": published,
        "last_run_at": st.last_run_at.isoformat() if st and st.last_run_at else None,
        "last_success_at": st.last_success_at.isoformat() if st and st.last_success_at else None,
        "last_error": st.last_error if st else None, "index": None,
    }
    try:
        backend = open_index(config)
        try:
            out["index"] = backend.status()
        finally:
            backend.close()
    except Exception as exc:
        out["index_error"] = str(exc)
    return out


def _published_ops(engine: Engine, handed: Callable[[int], None] | None = None) -> Iterator[Any]:
    """Every published record as an upsert; ``handed`` hears how many the index has taken
    (after each batch, when the index asks for the next record)."""
    from indexer import IndexOp

    published = select(IchRecord.id, IchRecord.version, IchRecord.record).where(*PUBLISHED)
    taken = 0
    with Session(engine) as s:
        for rows in keyset_batches(s, published, IchRecord.id, batch=BATCH, after=""):
            for rid, version, record in rows:
                yield IndexOp(action="upsert", id=rid, version=version, record=orjson.loads(record))
            taken += len(rows)
            if handed is not None:
                handed(taken)


def reindex(engine: Engine, config: SearchConfig, *,
            progress: Callable[[int, int], None] | None = None) -> dict[str, Any]:
    """Build a fresh index from the store, check its count, then swap it in.

    ``progress`` hears (records handed to the new index so far, records expected): 0 first,
    then after each batch.
    """
    started = utcnow() - timedelta(seconds=1)
    with Session(engine) as s:
        expected = s.scalar(select(func.count()).select_from(IchRecord).where(*PUBLISHED)) or 0
        high = s.scalar(select(func.max(Outbox.id))) or 0
    from indexer import IndexingError

    from harvester.errors import SearchIndexError

    handed = None
    if progress is not None:
        report = progress

        def handed(taken: int) -> None:
            report(taken, expected)
        handed(0)
    try:
        backend = open_index(config)
        try:
            result = dict(backend.rebuild(_published_ops(engine, handed), expected))
            # Changes relayed while the new index was built went to the old one (Elasticsearch
            # swaps an alias): send everything changed since the start to the new index too.
            with Session(engine) as s:
                changed = list(s.scalars(select(IchRecord.id).where(IchRecord.changed_at >= started)))
                caught_up = backend.apply(_ops(s, changed)) if changed else None
            result["caught_up"] = len(caught_up.done) if caught_up else 0
            if caught_up and caught_up.failed:
                raise IndexingError(f"{len(caught_up.failed)} changes made during the rebuild "
                                    f"failed to index: {caught_up.failed[:3]}")
        finally:
            backend.close()
    except IndexingError as exc:
        raise SearchIndexError(f"reindex failed, the current index was kept: {exc}") from exc
    with sessionmaker(engine).begin() as s:
        s.execute(delete(Outbox).where(Outbox.id <= high))
        st = _state(s)
        st.last_run_at = st.last_success_at = utcnow()
        st.last_error = None
    result.setdefault("expected", expected)
    return result
