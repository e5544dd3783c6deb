"""Upsert one page of raw records: never a duplicate, never a needless rewrite.

The whole page is written in the caller's transaction together with its checkpoint, so a
crash leaves either the page and its new token, or neither.  Records are keyed by
(source, metadataPrefix, OAI identifier); a record whose SHA-256 did not change is only
marked as seen (for full-harvest reconciliation), not rewritten.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import bindparam, func, insert, select, update
from sqlalchemy.orm import Session

from harvester.oai.response import DeferredRecord
from harvester.oai.response import RawRecord as ParsedRecord
from harvester.store.models import RawRecord
from harvester.store.page_memos import placeholder, next_generation

_CHUNK = 500
_INSERT_RETURNING_ID = insert(RawRecord).returning(RawRecord.id, sort_by_parameter_order=True)
_TABLE = RawRecord.__tablename__


@dataclass
class StoredChange:
    """A raw record that is new or changed in this page, for the crosswalk stage."""

    raw_id: int
    record: ParsedRecord
    sha256: str
    stored_at: datetime


@dataclass
class PageCounts:
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    changes: list[StoredChange] = field(default_factory=list)
    raw_ids: list[int] = field(default_factory=list)  # the row of each distinct identifier
    recognised: bool = False  # known by its fingerprint, not parsed (page_memos)
    rewritten: int = 0  # stored rows rewritten in place (changed, deleted or failed again)


def _lookup(session: Session, source: str, metadata_prefix: str, identifiers: Iterable[str],
            into: dict[str, tuple[int, str, bool, bool]]) -> None:
    """(id, sha256, deleted, failed) of the stored rows under these identifiers.

    Plain SQL on the session's connection: it runs for every page of every harvest, and
    building the equivalent SQLAlchemy statement with a 100-value IN list cost more than
    the query itself (~1 ms a page).
    """
    wanted = list(identifiers)
    if not wanted:
        return
    conn = session.connection()
    mark = placeholder(conn)
    for start in range(0, len(wanted), _CHUNK):
        chunk = wanted[start:start + _CHUNK]
        rows = conn.exec_driver_sql(
            f"SELECT identifier, id, sha256, deleted, error IS NOT NULL FROM {_TABLE} "
            f"WHERE source = {mark} AND metadata_prefix = {mark} "
            f"AND identifier IN ({', '.join([mark] * len(chunk))})",
            (source, metadata_prefix, *chunk))
        for ident, rid, sha, deleted, failed in rows:
            into[ident] = (rid, sha, bool(deleted), bool(failed))


def last_raw_id(session: Session, source: str, metadata_prefix: str) -> int:
    """The highest raw-record id committed for the source, 0 when none: a follower that has
    swept everything up to it need not look below it again for new records."""
    value = session.execute(select(func.max(RawRecord.id))
                            .where(RawRecord.source == source,
                                   RawRecord.metadata_prefix == metadata_prefix)).scalar()
    return int(value or 0)


def _parsed(record: ParsedRecord | DeferredRecord) -> ParsedRecord:
    return record.resolve() if isinstance(record, DeferredRecord) else record


def _known_unchanged(session: Session, source: str, metadata_prefix: str,
                     records: Sequence[ParsedRecord | DeferredRecord],
                     existing: dict[str, tuple[int, str, bool, bool]], looked_up: set[str],
                     ) -> tuple[list[ParsedRecord], list[tuple[int, bool]]]:
    """Split the page: records to store (parsed), and (id, failed) of stored rows seen unchanged.

    Unchanged means: the stored row under the record's identifier hint holds the same text
    and is live, so parsing this text would give that very row.  A page that names one
    identifier twice is parsed whole, so "the last copy wins" is decided as always.  The
    identifiers looked up here go into ``looked_up`` (found or not), so they are not asked twice.
    """
    deferred = [rec for rec in records if isinstance(rec, DeferredRecord) and not rec.parsed]
    if not deferred:
        return [_parsed(rec) for rec in records], []
    hints = {rec.identifier_hint for rec in deferred}
    if len(hints) == len(deferred):
        _lookup(session, source, metadata_prefix, hints, existing)
        looked_up.update(hints)
    unchanged: dict[str, tuple[int, bool]] = {}
    for rec in deferred:
        old = existing.get(rec.identifier_hint)
        if old is not None and not old[2] and old[1] == record_sha256(rec.xml):
            unchanged[rec.identifier_hint] = (old[0], old[3])
    parsed = [_parsed(rec) for rec in records
              if not (isinstance(rec, DeferredRecord) and rec.identifier_hint in unchanged
                      and not rec.parsed)]
    if unchanged and any(rec.header.identifier in unchanged for rec in parsed):
        return [_parsed(rec) for rec in records], []
    return parsed, list(unchanged.values())


def record_sha256(xml: str) -> str:
    return hashlib.sha256(xml.encode("utf-8")).hexdigest()


DATESTAMP_COLUMN = RawRecord.__table__.c.datestamp.type.length


def _datestamp(record: ParsedRecord) -> tuple[str | None, list[dict[str, str]]]:
    """The header datestamp for its column; one too long for any UTCdatetime stays only in
    the record's text, with a diagnostic, so that one record cannot fail its whole page."""
    stamp = record.header.datestamp
    if stamp is None or len(stamp) <= DATESTAMP_COLUMN:
        return stamp, []
    return None, [{"level": "warning", "code": "invalid-datestamp",
                   "message": f"datestamp of {len(stamp)} characters is not a UTCdatetime: "
                              f"{stamp[:60]!r}; kept in the record text only"}]


def _diagnostics_json(record: ParsedRecord, extra: list[dict[str, str]]) -> str | None:
    if not record.diagnostics and not extra:
        return None
    return json.dumps([{"level": d.level, "code": d.code, "message": d.message}
                       for d in record.diagnostics] + extra, ensure_ascii=False)


def store_page(session: Session, *, source: str, metadata_prefix: str,
               records: Sequence[ParsedRecord | DeferredRecord], now: datetime, epoch: int = 0,
               run_id: int | None = None, mark_seen: bool = True) -> PageCounts:
    """Write one page's records; returns what happened to each, counted.

    A :class:`DeferredRecord` whose text is byte for byte the stored text under its
    identifier is unchanged and is never parsed; any other is parsed here.  ``mark_seen``
    stamps unchanged rows with ``epoch``/``run_id``; full-harvest reconciliation needs that
    only for repositories that do not keep deletions, and it is the one write an unchanged
    page would otherwise cost.
    """
    counts = PageCounts(records=len(records))
    existing: dict[str, tuple[int, str, bool, bool]] = {}
    looked_up: set[str] = set()
    parsed, known = _known_unchanged(session, source, metadata_prefix, records, existing,
                                     looked_up)
    unchanged_ids = [raw_id for raw_id, _failed in known]
    counts.unchanged = sum(not failed for _raw_id, failed in known)
    counts.failed = len(known) - counts.unchanged  # as the parsed path counts a failed record
    latest: dict[str, ParsedRecord] = {}
    for rec in parsed:  # a page that repeats an identifier keeps its last copy
        latest[rec.header.identifier] = rec
    _lookup(session, source, metadata_prefix, [i for i in latest if i not in looked_up], existing)
    inserts: list[dict[str, object]] = []
    insert_recs: list[tuple[ParsedRecord, str]] = []
    updates: list[dict[str, object]] = []
    for ident, rec in latest.items():
        sha = record_sha256(rec.xml)
        datestamp, notes = _datestamp(rec)
        row = {
            "datestamp": datestamp, "sets": json.dumps(list(rec.header.sets), ensure_ascii=False),
            "deleted": rec.header.deleted, "sha256": sha, "xml": rec.xml,
            "diagnostics": _diagnostics_json(rec, notes), "error": rec.error, "updated_at": now,
            "seen_epoch": epoch, "last_run_id": run_id,
        }
        if rec.error:
            counts.failed += 1
        old = existing.get(ident)
        if old is None:
            inserts.append({**row, "source": source, "metadata_prefix": metadata_prefix,
                            "identifier": ident, "first_seen_at": now})
            insert_recs.append((rec, sha))
            if rec.header.deleted:
                counts.deleted += 1
            elif not rec.error:
                counts.new += 1
        elif old[1] == sha and old[2] == rec.header.deleted:
            unchanged_ids.append(old[0])
            if not rec.error:
                counts.unchanged += 1
        else:
            updates.append({**row, "b_id": old[0]})
            counts.raw_ids.append(old[0])
            counts.changes.append(StoredChange(old[0], rec, sha, now))
            if rec.header.deleted and not old[2]:
                counts.deleted += 1
            elif not rec.error:
                counts.updated += 1

    if inserts:
        # Core, not the ORM's bulk path: the same INSERT ... RETURNING, without the ORM
        # building a persistence plan for every row of every page.
        conn = session.connection()
        for start in range(0, len(inserts), _CHUNK):
            chunk = inserts[start:start + _CHUNK]
            ids = conn.execute(_INSERT_RETURNING_ID, chunk).scalars().all()
            for rid, (rec, sha) in zip(ids, insert_recs[start:start + _CHUNK]):
                counts.changes.append(StoredChange(rid, rec, sha, now))
                counts.raw_ids.append(rid)
    if updates:
        generation = next_generation(session, source)
        for row in updates:
            row["rewritten_generation"] = generation
        stmt = (update(RawRecord).where(RawRecord.id == bindparam("b_id"))
                .values({k: bindparam(k) for k in updates[0] if k != "b_id"}))
        session.connection().execute(stmt, updates)
        counts.rewritten = len(updates)
    counts.raw_ids.extend(unchanged_ids)
    if mark_seen and (epoch or run_id is not None):
        stamp_seen(session, unchanged_ids, epoch, run_id)
    return counts


def stamp_seen(session: Session, raw_ids: Sequence[int], epoch: int, run_id: int | None) -> None:
    """Mark rows seen unchanged in this full harvest: only reconciliation reads the stamps."""
    for start in range(0, len(raw_ids), _CHUNK):
        session.execute(update(RawRecord).where(RawRecord.id.in_(raw_ids[start:start + _CHUNK]))
                        .values(seen_epoch=epoch, last_run_id=run_id))
