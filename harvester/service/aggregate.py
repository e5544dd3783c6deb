"""Read-only questions the service asks the store: one record, and per-source numbers.

Shared by the JSON API, the web pages and ``/metrics`` so the three never disagree on
what "published" or "quarantined" means: published = not deleted and not quarantined
(exactly what the index and the OAI-PMH feed hold).
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from harvester.config import Settings
from harvester.status import overdue_sources
from harvester.store.checkpoints import last_runs
from harvester.store.models import HarvestRun, IchRecord, Outbox, Repository, Suppression

RECORD_STATES = ("live", "deleted", "published", "quarantined")


def _utc(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _iso(value: datetime | None) -> str | None:
    value = _utc(value)
    return value.isoformat().replace("+00:00", "Z") if value is not None else None


@dataclass(frozen=True)
class StoredRecord:
    """One row of ich_records as the API and the record page need it."""

    id: str
    source: str
    deleted: bool
    quarantined: bool
    version: int
    changed_at: datetime
    record: dict[str, Any] | None
    diagnostics: list[Any] = field(default_factory=list)
    suppressed: bool = False  # withheld by the operator: its content is never served

    @property
    def published(self) -> bool:
        return not self.deleted and not self.quarantined and not self.suppressed and self.record is not None

    def as_json(self) -> dict[str, Any]:
        return {"id": self.id, "source": self.source, "published": self.published,
                "quarantined": self.quarantined, "deleted": self.deleted, "version": self.version,
                "changed_at": _iso(self.changed_at), "diagnostics": self.diagnostics,
                "record": self.record}


def stored_record(engine: Engine, record_id: str) -> StoredRecord | None:
    with Session(engine) as s:
        row = s.execute(select(IchRecord.id, IchRecord.source, IchRecord.deleted,
                               IchRecord.quarantined, IchRecord.version, IchRecord.changed_at,
                               IchRecord.record, IchRecord.diagnostics,
                               Suppression.record_id.is_not(None).label("suppressed"))
                        .outerjoin(Suppression, Suppression.record_id == IchRecord.id)
                        .where(IchRecord.id == record_id)).first()
    if row is None:
        return None
    diagnostics = json.loads(row.diagnostics) if row.diagnostics else []
    return StoredRecord(id=row.id, source=row.source, deleted=bool(row.deleted),
                        quarantined=bool(row.quarantined), version=int(row.version or 0),
                        changed_at=_utc(row.changed_at),  # type: ignore[arg-type]
                        record=json.loads(row.record) if row.record else None,
                        diagnostics=diagnostics if isinstance(diagnostics, list) else [],
                        suppressed=bool(row.suppressed))


def record_counts(engine: Engine) -> dict[str, dict[str, int]]:
    """Per source: live (not deleted), deleted, published and quarantined ICH records."""
    not_deleted = IchRecord.deleted.is_(False)
    with Session(engine) as s:
        rows = s.execute(select(
            IchRecord.source,
            func.sum(case((not_deleted, 1), else_=0)),
            func.sum(case((IchRecord.deleted.is_(True), 1), else_=0)),
            func.sum(case((not_deleted & IchRecord.quarantined.is_(False), 1), else_=0)),
            func.sum(case((not_deleted & IchRecord.quarantined.is_(True), 1), else_=0)),
        ).group_by(IchRecord.source)).all()
    return {source: dict(zip(RECORD_STATES, (int(v or 0) for v in values)))
            for source, *values in rows}


def harvest_run_counts(engine: Engine) -> dict[tuple[str, str], int]:
    with Session(engine) as s:
        rows = s.execute(select(HarvestRun.source, HarvestRun.status, func.count())
                         .group_by(HarvestRun.source, HarvestRun.status)).all()
    return {(source, status): int(n) for source, status, n in rows}


def last_successes(engine: Engine) -> dict[str, datetime]:
    """When each source's last harvest that ended "ok" ended."""
    with Session(engine) as s:
        rows = s.execute(select(HarvestRun.source, func.max(HarvestRun.ended_at))
                         .where(HarvestRun.status == "ok", HarvestRun.ended_at.is_not(None))
                         .group_by(HarvestRun.source)).all()
    return {source: _utc(ended) for source, ended in rows if ended is not None}  # type: ignore[misc]


def outbox_backlog(engine: Engine) -> int:
    with Session(engine) as s:
        return int(s.scalar(select(func.count()).select_from(Outbox)) or 0)


def source_summaries(settings: Settings, engine: Engine) -> list[dict[str, Any]]:
    """``GET /api/sources``: every configured source with its partner, last harvest and counts."""
    counts = record_counts(engine)
    successes = last_successes(engine)
    out = []
    with Session(engine) as s:
        late = overdue_sources(settings, s)
        repositories = {r.source: r.repository_name for r in s.scalars(select(Repository))}
        for name, source in settings.sources.items():
            runs = last_runs(s, name, 1)
            run = runs[0] if runs else None
            out.append({
                "source": name,
                "enabled": source.enabled,
                "partner": {"name": source.partner.name or name, "country": source.partner.country},
                "repository_name": repositories.get(name),
                "metadata_prefix": source.metadata_prefix,
                "last_harvest": None if run is None else {
                    "status": run.status, "mode": run.mode, "started_at": _iso(run.started_at),
                    "ended_at": _iso(run.ended_at), "error": run.error},
                "last_success_at": _iso(successes.get(name)),
                "overdue": late[name].reason if late[name] else None,
                "records": counts.get(name, dict.fromkeys(RECORD_STATES, 0)),
            })
    return out
