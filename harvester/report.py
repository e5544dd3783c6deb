"""The partner report: what was mapped, what was quarantined and why, what was not understood.

A partner fixing their data needs numbers per field and the actual values we could not
recognise (a country string no vocabulary matched, a date we could not read), not a log.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable
from typing import Any

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from harvester.coverage import coverage_fields, coverage_percent, filled
from harvester.store.keyset import keyset_batches
from harvester.store.models import Diagnostic, IchRecord, RawRecord

TOP_VALUES = 10
_BATCH = 1000


def source_report(engine: Engine, source: str) -> dict[str, Any]:
    fields = coverage_fields()
    filled_fields: Counter[str] = Counter()
    counts = {"raw_live": 0, "raw_deleted": 0, "raw_failed": 0, "mapped": 0, "published": 0,
              "quarantined": 0}
    quarantine_reasons: Counter[str] = Counter()
    with Session(engine) as s:
        for deleted, failed, n in s.execute(
                select(RawRecord.deleted, RawRecord.error.is_not(None), func.count())
                .where(RawRecord.source == source).group_by(RawRecord.deleted, RawRecord.error.is_not(None))):
            if deleted:
                counts["raw_deleted"] += n
            else:
                counts["raw_live"] += n
                if failed:
                    counts["raw_failed"] += n
        mapped = (select(IchRecord.id, IchRecord.quarantined, IchRecord.record, IchRecord.diagnostics)
                  .where(IchRecord.source == source, IchRecord.deleted.is_(False)))
        for rows in keyset_batches(s, mapped, IchRecord.id, batch=_BATCH, after=""):
            for _rid, quarantined, record_json, diags_json in rows:
                counts["mapped"] += 1
                if quarantined:
                    counts["quarantined"] += 1
                    for d in json.loads(diags_json or "[]"):
                        if d.get("level") == "error":
                            quarantine_reasons[d.get("code") or "unknown"] += 1
                else:
                    counts["published"] += 1
                record = json.loads(record_json) if record_json else {}
                for f in fields:
                    if filled(record.get(f)):
                        filled_fields[f] += 1
        by_code = {code: {"level": level, "count": n} for code, level, n in s.execute(
            select(Diagnostic.code, Diagnostic.level, func.count())
            .where(Diagnostic.source == source).group_by(Diagnostic.code, Diagnostic.level)
            .order_by(func.count().desc()))}
        unrecognised: dict[str, list[dict[str, Any]]] = {}
        for code, field, value, n in s.execute(
                select(Diagnostic.code, Diagnostic.field, Diagnostic.value, func.count())
                .where(Diagnostic.source == source, Diagnostic.value.is_not(None))
                .group_by(Diagnostic.code, Diagnostic.field, Diagnostic.value)
                .order_by(func.count().desc())):
            bucket = unrecognised.setdefault(code, [])
            if len(bucket) < TOP_VALUES:
                bucket.append({"field": field, "value": value, "count": n})
        harvest_codes: Counter[str] = Counter()
        for (diags,) in s.execute(select(RawRecord.diagnostics).where(
                RawRecord.source == source, RawRecord.diagnostics.is_not(None))):
            for d in json.loads(diags):
                harvest_codes[d.get("code", "unknown")] += 1
    return {
        "source": source, **counts,
        "coverage": coverage_percent(filled_fields, counts["mapped"]),
        "quarantine_reasons": dict(quarantine_reasons.most_common()),
        "diagnostics": by_code,
        "harvest_diagnostics": dict(harvest_codes.most_common()),
        "top_unrecognised": unrecognised,
    }


def report(engine: Engine, sources: Iterable[str]) -> list[dict[str, Any]]:
    return [source_report(engine, s) for s in sources]
