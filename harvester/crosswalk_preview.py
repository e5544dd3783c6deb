"""What a crosswalk makes of one page of records, before a source is configured or changed.

An operator adding a partner, or editing a source's rules, wants to know from the live
repository how many records would be published, what would quarantine the rest, which fields
stay empty and which values no vocabulary recognised, before a long harvest fills the store.
The crosswalk, context and quarantine decisions are exactly the harvest's; nothing is stored.
"""

from __future__ import annotations

import hashlib
from collections import Counter
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Protocol

from harvester.coverage import coverage_fields, coverage_percent, filled

QUARANTINED_SHOWN = 5
TOP_VALUES = 5


class _Header(Protocol):
    identifier: str
    datestamp: str | None
    sets: tuple[str, ...]
    deleted: bool


class PageRecord(Protocol):
    """A record of a ListRecords page as the OAI client hands it over."""

    header: _Header
    xml: str
    element: Any
    error: str | None


def preview_crosswalk(records: Iterable[PageRecord], crosswalk: str, context: Any) -> dict[str, Any]:
    """Map ``records`` as the harvest would, and summarise the outcome like the partner report.

    ``crosswalk`` is a bundled name or a YAML file; a definition with mistakes raises
    :class:`~mappings.errors.MappingError` naming its file and line.  ``context`` is the
    :class:`~mappings.SourceContext` the source would be harvested with.
    """
    from mappings import RawInput, load_crosswalk

    walker = load_crosswalk(crosswalk)
    harvested_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    counts = {"records": 0, "deleted": 0, "published": 0, "quarantined": 0}
    categories: Counter[str] = Counter()
    reasons: Counter[str] = Counter()
    levels: dict[str, str] = {}
    codes: Counter[str] = Counter()
    values: Counter[tuple[str, str | None, str]] = Counter()
    filled_fields: Counter[str] = Counter()
    quarantined: list[dict[str, Any]] = []
    sample: dict[str, Any] | None = None
    fields = coverage_fields()
    for rec in records:
        header = rec.header
        if header.deleted:
            counts["deleted"] += 1
            continue
        counts["records"] += 1
        if rec.error:
            # The harvest stores such a record as failed and quarantines it unmapped.
            record: dict[str, Any] = {}
            errors = [("unparseable-record", rec.error)]
            is_quarantined = True
        else:
            raw = RawInput(identifier=header.identifier, datestamp=header.datestamp,
                           sets=tuple(header.sets), deleted=False, xml=rec.xml,
                           sha256=hashlib.sha256(rec.xml.encode("utf-8")).hexdigest(),
                           harvested_at=harvested_at, element=rec.element)
            result = walker.map(raw, context)
            record = result.record or {}
            errors = [(d.code, d.message) for d in result.diagnostics if d.level == "error"]
            is_quarantined = result.quarantined
            for d in result.diagnostics:
                codes[d.code] += 1
                levels[d.code] = d.level
                if d.value is not None:
                    values[(d.code, d.field, d.value)] += 1
        for f in fields:
            if filled(record.get(f)):
                filled_fields[f] += 1
        if is_quarantined:
            counts["quarantined"] += 1
            for code, _ in errors:
                reasons[code] += 1
            if len(quarantined) < QUARANTINED_SHOWN:
                quarantined.append({"identifier": header.identifier,
                                    "reasons": [f"{code}: {message}" for code, message in errors]})
        else:
            counts["published"] += 1
            categories[record.get("category") or "-"] += 1
            if sample is None:
                sample = record
    return {
        "crosswalk": walker.name, "version": walker.version, **counts,
        "categories": dict(categories.most_common()),
        "quarantine_reasons": dict(reasons.most_common()),
        "quarantined_records": quarantined,
        "coverage": coverage_percent(filled_fields, counts["records"]),
        "empty_fields": [f for f in fields if not filled_fields[f]] if counts["records"] else [],
        "diagnostics": {code: {"level": levels[code], "count": n} for code, n in codes.most_common()},
        "top_unrecognised": _top_values(values),
        "sample": sample,
    }


def _top_values(values: Counter[tuple[str, str | None, str]]) -> dict[str, list[dict[str, Any]]]:
    """Per diagnostic code, the values it was raised for, most frequent first."""
    out: dict[str, list[dict[str, Any]]] = {}
    for (code, field, value), n in values.most_common():
        bucket = out.setdefault(code, [])
        if len(bucket) < TOP_VALUES:
            bucket.append({"field": field, "value": value, "count": n})
    return out
