"""Stream the store out as JSON lines: the raw records now, the ICH records too."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from harvester.store.keyset import keyset_batches
from harvester.store.models import RawRecord

_BATCH = 1000


def iter_raw(engine: Engine, *, source: str | None = None,
             include_deleted: bool = False) -> Iterator[dict[str, Any]]:
    """One dict per stored raw record, in store order; memory stays flat (keyset paging)."""
    stmt = select(RawRecord.id, RawRecord.source, RawRecord.identifier, RawRecord.datestamp,
                  RawRecord.sets, RawRecord.metadata_prefix, RawRecord.deleted, RawRecord.sha256,
                  RawRecord.xml)
    if source:
        stmt = stmt.where(RawRecord.source == source)
    if not include_deleted:
        stmt = stmt.where(RawRecord.deleted.is_(False))
    with Session(engine) as s:
        for rows in keyset_batches(s, stmt, RawRecord.id, batch=_BATCH, after=0):
            for r in rows:
                yield {"source": r.source, "identifier": r.identifier, "datestamp": r.datestamp,
                       "sets": json.loads(r.sets), "metadata_prefix": r.metadata_prefix,
                       "deleted": r.deleted, "sha256": r.sha256, "xml": r.xml}


def write_jsonl(items: Iterator[dict[str, Any]], out: Any) -> int:
    n = 0
    for item in items:
        out.write(json.dumps(item, ensure_ascii=False))
        out.write("\n")
        n += 1
    return n


def iter_ich(engine: Engine, *, source: str | None = None,
             include_quarantined: bool = False) -> Iterator[dict[str, Any]]:
    """One ICH record per line, each with ``quarantined`` and its ``diagnostics``."""
    from harvester.store.models import IchRecord

    stmt = (select(IchRecord.id, IchRecord.record, IchRecord.quarantined, IchRecord.diagnostics)
            .where(IchRecord.deleted.is_(False), IchRecord.record.is_not(None)))
    if source:
        stmt = stmt.where(IchRecord.source == source)
    if not include_quarantined:
        stmt = stmt.where(IchRecord.quarantined.is_(False))
    with Session(engine) as s:
        for rows in keyset_batches(s, stmt, IchRecord.id, batch=_BATCH, after=""):
            for _rid, record, quarantined, diagnostics in rows:
                item = json.loads(record)
                item["quarantined"] = quarantined
                item["diagnostics"] = json.loads(diagnostics or "[]")
                yield item
