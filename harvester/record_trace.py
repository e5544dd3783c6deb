"""Where one record stands on its way from a partner's repository to the search service.

"Why is my record not in the search?" has its answer spread over four places: the raw store
(was it harvested, deleted, unparseable?), the crosswalk's output (published or quarantined,
and why), the outbox (is a change still waiting for the index, and failing?) and the index
itself (does it hold the latest version?).  ``ichlinks record`` reads all four for one record
and says in one line where it stands and what would move it on.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from harvester.config import Settings, SourceConfig
from harvester.crosswalking import utc_text
from harvester.store.models import IchRecord, Outbox, RawRecord, Suppression

# Where a record stands, from "nothing to do" to "someone has to act".
SEARCHABLE = "searchable"
INDEX_PENDING = "index-pending"
INDEX_FAILING = "index-failing"
MISSING_FROM_INDEX = "missing-from-index"
INDEX_UNCHECKED = "index-unchecked"
QUARANTINED = "quarantined"
UNPARSEABLE = "unparseable"
NOT_MAPPED = "not-mapped"
DELETED = "deleted"
STILL_IN_INDEX = "deleted-but-searchable"
WITHHELD = "suppressed"


@dataclass(frozen=True)
class _Found:
    raw: RawRecord
    ich: IchRecord | None


def _json_list(text: str | None) -> list[dict[str, Any]]:
    value = json.loads(text) if text else []
    return value if isinstance(value, list) else []


def find_records(engine: Engine, key: str, sources: Sequence[SourceConfig]) -> list[_Found]:
    """The stored records ``key`` names: an ICH record id, or an OAI identifier in ``sources``.

    Only exact index lookups: an ICH id, each source's id for the identifier, and the raw
    key (source, configured format, identifier) for records not mapped yet.
    """
    from mappings import record_id

    found: list[_Found] = []
    with Session(engine, expire_on_commit=False) as s:
        ich = s.get(IchRecord, key) if len(key) <= 100 else None
        if ich is not None:
            raw = s.get(RawRecord, ich.raw_id)
            if raw is not None:
                return [_Found(raw, ich)]
        for source in sources:
            ich = s.get(IchRecord, record_id(source.name, key))
            raw = s.get(RawRecord, ich.raw_id) if ich is not None else None
            if raw is None:
                ich = None
                raw = s.scalars(select(RawRecord).where(
                    RawRecord.source == source.name, RawRecord.metadata_prefix == source.metadata_prefix,
                    RawRecord.identifier == key)).first()
            if raw is not None:
                found.append(_Found(raw, ich))
        s.expunge_all()
    return found


def _pending(engine: Engine, record_id: str) -> list[dict[str, Any]]:
    with Session(engine) as s:
        rows = s.scalars(select(Outbox).where(Outbox.record_id == record_id).order_by(Outbox.id)).all()
        return [{"action": r.action, "created_at": utc_text(r.created_at),
                 "attempts": int(r.attempts or 0), "last_error": r.last_error} for r in rows]


def _suppression(engine: Engine, record_id: str) -> Suppression | None:
    with Session(engine, expire_on_commit=False) as s:
        row = s.get(Suppression, record_id)
        if row is not None:
            s.expunge(row)
        return row


def _current_mapping_version(source: SourceConfig | None) -> str | None:
    if source is None:
        return None
    from mappings import MappingError, load_crosswalk

    try:
        return load_crosswalk(source.crosswalk).version
    except (MappingError, OSError):
        return None  # the configuration check reports it; the trace still shows the stored state


def _harvest_part(raw: RawRecord) -> dict[str, Any]:
    return {
        "metadata_prefix": raw.metadata_prefix, "datestamp": raw.datestamp,
        "sets": json.loads(raw.sets or "[]"), "deleted": bool(raw.deleted), "sha256": raw.sha256,
        "first_seen_at": utc_text(raw.first_seen_at), "updated_at": utc_text(raw.updated_at),
        "error": raw.error, "diagnostics": _json_list(raw.diagnostics),
    }


def _crosswalk_part(ich: IchRecord, current: str | None) -> dict[str, Any]:
    record = json.loads(ich.record) if ich.record else None
    return {
        "mapping": ich.mapping, "mapping_version": ich.mapping_version,
        "current_mapping_version": current,
        "stale": current is not None and ich.mapping_version != current,
        "quarantined": bool(ich.quarantined), "deleted": bool(ich.deleted),
        "version": int(ich.version or 0), "changed_at": utc_text(ich.changed_at),
        "category": ich.category, "diagnostics": _json_list(ich.diagnostics), "record": record,
    }


def _verdict(raw: RawRecord, ich: IchRecord | None, pending: list[dict[str, Any]],
             indexed: int | None, index_error: str | None,
             suppression: Suppression | None = None) -> tuple[str, str]:
    """Where the record stands, and what would move it on."""
    source = raw.source
    failing = [p for p in pending if p["attempts"]]
    if failing:
        last = failing[-1]
        return INDEX_FAILING, (f"the index has refused this change {last['attempts']} time(s): "
                               f"{last['last_error']}; `ichlinks index status` shows the backlog")
    if pending:
        return INDEX_PENDING, (f"{len(pending)} change(s) wait for the index relay; the next "
                               "harvest or `ichlinks index relay` applies them")
    if raw.deleted or (ich is not None and ich.deleted):
        if indexed is not None:
            return STILL_IN_INDEX, ("deleted at the source, but the index still holds it; "
                                    "`ichlinks reindex` rebuilds the index from the store")
        return DELETED, "deleted at the source; tombstoned here and gone from the index"
    if raw.error:
        return UNPARSEABLE, (f"the harvested record could not be parsed: {raw.error}; the partner "
                             "has to fix it at the source")
    if ich is None:
        return NOT_MAPPED, (f"harvested but not mapped yet; `ichlinks remap {source}` maps it "
                            "(a harvest does too)")
    if suppression is not None and ich.quarantined:
        return WITHHELD, (f"withheld from publication since {utc_text(suppression.suppressed_at)} by "
                          f"{suppression.suppressed_by or '-'}: {suppression.reason}; "
                          f"`ichlinks suppressions remove {ich.id}` lifts it")
    if ich.quarantined:
        reasons = [f"{d.get('code')}: {d.get('message')}" for d in _json_list(ich.diagnostics)
                   if d.get("level") == "error"]
        return QUARANTINED, ("quarantined, never published: " + ("; ".join(reasons) or "no reason stored")
                             + f"; `ichlinks report {source}` lists what the partner can fix")
    if index_error is not None:
        return INDEX_UNCHECKED, f"published; the index could not be asked: {index_error}"
    if indexed is None or indexed < int(ich.version or 0):
        held = "does not hold it" if indexed is None else f"holds an older version ({indexed})"
        return MISSING_FROM_INDEX, (f"published, but the index {held} and no change is pending; "
                                    "`ichlinks reindex` rebuilds the index from the store")
    return SEARCHABLE, "published and searchable"


def trace_records(engine: Engine, settings: Settings, key: str, *, source: str | None = None,
                  with_xml: bool = False) -> list[dict[str, Any]]:
    """Every stored record ``key`` names (an OAI identifier may be in several sources)."""
    from harvester.relay import open_index
    from harvester.runner import select_sources

    sources = select_sources(settings, [source]) if source else list(settings.sources.values())
    found = find_records(engine, key, sources)
    if source:
        found = [f for f in found if f.raw.source == source]
    if not found:
        return []
    ids = [f.ich.id for f in found if f.ich is not None]
    versions: dict[str, int] = {}
    index_error = None
    if ids:
        try:
            backend = open_index(settings.search)
            try:
                versions = backend.searchable_versions(ids)
            finally:
                backend.close()
        except Exception as exc:  # the index is the last stage: say what broke, keep the rest
            index_error = f"{type(exc).__name__}: {exc}"
    traces = []
    for f in found:
        raw, ich = f.raw, f.ich
        configured = settings.sources.get(raw.source)
        pending = _pending(engine, ich.id) if ich is not None else []
        indexed = versions.get(ich.id) if ich is not None else None
        suppression = _suppression(engine, ich.id) if ich is not None else None
        verdict, explanation = _verdict(raw, ich, pending, indexed, index_error, suppression)
        notes = []
        if configured is None:
            notes.append(f"source {raw.source!r} is no longer configured")
        elif not configured.enabled:
            notes.append(f"source {raw.source!r} is disabled: it is not harvested on schedule")
        crosswalk = _crosswalk_part(ich, _current_mapping_version(configured)) if ich else None
        if crosswalk is not None and crosswalk["stale"]:
            notes.append(f"mapped with crosswalk version {crosswalk['mapping_version']}, now "
                         f"{crosswalk['current_mapping_version']}: `ichlinks remap {raw.source}` "
                         "maps it again")
        trace: dict[str, Any] = {
            "id": ich.id if ich is not None else None, "source": raw.source,
            "identifier": raw.identifier, "verdict": verdict, "explanation": explanation,
            "notes": notes, "harvest": _harvest_part(raw), "crosswalk": crosswalk,
            "suppression": None if suppression is None else {
                "reason": suppression.reason, "suppressed_by": suppression.suppressed_by,
                "suppressed_at": utc_text(suppression.suppressed_at)},
            "index": {"backend": settings.search.backend, "searchable_version": indexed,
                      "pending": pending, "error": index_error if ich is not None else None},
        }
        if with_xml:
            trace["xml"] = raw.xml
        traces.append(trace)
    return traces
