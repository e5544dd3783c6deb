"""What operators ask of the store: which sources, how are they doing, what failed."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, case, func, select
from sqlalchemy.orm import Session

from harvester.config import Settings, SourceConfig
from harvester.scheduling.overdue import Overdue
from harvester.store.checkpoints import last_runs
from harvester.store.models import Checkpoint, HarvestRun, RawRecord, Repository


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def run_json(run: HarvestRun) -> dict[str, Any]:
    return {"id": run.id, "mode": run.mode, "status": run.status, "started_at": _iso(run.started_at),
            "ended_at": _iso(run.ended_at), "from": run.window_from, "until": run.window_until,
            "pages": run.pages, "records": run.records, "new": run.new, "updated": run.updated,
            "unchanged": run.unchanged, "deleted": run.deleted, "failed": run.failed,
            "refused_deletes": run.refused_deletes, "requests": run.requests, "error": run.error}


def record_totals(session: Session) -> dict[str, dict[str, int]]:
    rows = session.execute(
        select(RawRecord.source,
               func.sum(case((RawRecord.deleted.is_(False), 1), else_=0)),
               func.sum(case((RawRecord.deleted.is_(True), 1), else_=0)),
               func.sum(case((RawRecord.error.is_not(None), 1), else_=0)))
        .group_by(RawRecord.source))
    return {src: {"live": int(live or 0), "deleted": int(dele or 0), "failed": int(failed or 0)}
            for src, live, dele, failed in rows}


def sources_overview(settings: Settings, engine: Engine | None) -> list[dict[str, Any]]:
    """Configured sources with their state in the store (when the store exists)."""
    totals: dict[str, dict[str, int]] = {}
    last: dict[str, HarvestRun] = {}
    repos: dict[str, Repository] = {}
    marks: dict[str, list[dict[str, Any]]] = {}
    if engine is not None:
        with Session(engine) as s:
            totals = record_totals(s)
            for src in settings.sources:
                runs = last_runs(s, src, 1)
                if runs:
                    last[src] = runs[0]
            repos = {r.source: r for r in s.scalars(select(Repository))}
            for cp in s.scalars(select(Checkpoint)):
                marks.setdefault(cp.source, []).append(
                    {"set": cp.set_spec or None, "metadata_prefix": cp.metadata_prefix,
                     "high_water": cp.high_water, "in_progress": cp.in_progress,
                     "resumption_token": cp.token, "cursor": cp.cursor,
                     "complete_list_size": cp.complete_list_size})
    out = []
    for name, src in settings.sources.items():
        repo = repos.get(name)
        run = last.get(name)
        out.append({
            "source": name, "url": src.url, "enabled": src.enabled,
            "metadata_prefix": src.metadata_prefix, "sets": list(src.sets),
            "partner": {"name": src.partner.name, "country": src.partner.country},
            "mapping": src.crosswalk,
            "schedule": ({"cron": src.schedule.cron, "interval_s": src.schedule.interval_s}
                         if src.schedule else None),
            "repository_name": repo.repository_name if repo else None,
            "granularity": repo.granularity if repo else None,
            "deleted_record": repo.deleted_record if repo else None,
            "last_run": run_json(run) if run else None,
            "records": totals.get(name, {"live": 0, "deleted": 0, "failed": 0}),
            "checkpoints": marks.get(name, []),
        })
    return out


def _aware(value: datetime | None) -> datetime | None:
    # SQLite hands timestamps back naive; they were written in UTC.
    if value is None:
        return None
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def run_history(session: Session) -> dict[str, tuple[datetime | None, datetime | None]]:
    """Per source: when its first harvest started and when its last "ok" harvest ended."""
    first = dict(session.execute(select(HarvestRun.source, func.min(HarvestRun.started_at))
                                 .group_by(HarvestRun.source)).all())
    success = dict(session.execute(select(HarvestRun.source, func.max(HarvestRun.ended_at))
                                   .where(HarvestRun.status == "ok", HarvestRun.ended_at.is_not(None))
                                   .group_by(HarvestRun.source)).all())
    return {name: (_aware(first.get(name)), _aware(success.get(name))) for name in first}


def overdue_sources(settings: Settings, session: Session,
                    now: datetime | None = None) -> dict[str, Overdue | None]:
    """Per configured source: why it is overdue (two scheduled runs without success), or None.

    Shared by ``ichlinks status``, ``/api/sources`` and ``/metrics`` so they never disagree.
    """
    return overdue_by_history(settings, run_history(session), now)


def overdue_by_history(settings: Settings, history: dict[str, tuple[datetime | None, datetime | None]],
                       now: datetime | None = None) -> dict[str, Overdue | None]:
    """:func:`overdue_sources` from a :func:`run_history` already read."""
    from harvester.scheduling.overdue import overdue

    moment = now or datetime.now(UTC)
    out: dict[str, Overdue | None] = {}
    for name, source in settings.sources.items():
        first_run, last_success = history.get(name, (None, None))
        out[name] = overdue(source.schedule if source.enabled else None, last_success, first_run, moment)
    return out


def _punctuality(source: SourceConfig | None, last_success: datetime | None,
                 late: Overdue | None) -> dict[str, Any]:
    from harvester.scheduling.triggers import describe_schedule

    schedule = source.schedule if source is not None and source.enabled else None
    return {"schedule": describe_schedule(schedule) if schedule else None,
            "last_success_at": _iso(last_success),
            "overdue": {"since": _iso(late.since), "reason": late.reason} if late else None}


def status_report(settings: Settings, engine: Engine, runs: int = 5, *,
                  now: datetime | None = None) -> list[dict[str, Any]]:
    """Per source: the last runs with counts and errors, the record totals, and whether its
    schedule has gone two runs without a successful harvest (``overdue``)."""
    with Session(engine) as s:
        totals = record_totals(s)
        history = run_history(s)
        late = overdue_by_history(settings, history, now)
        names = list(settings.sources) + sorted(set(totals) - set(settings.sources))
        return [{"source": name, "configured": name in settings.sources,
                 "records": totals.get(name, {"live": 0, "deleted": 0, "failed": 0}),
                 **_punctuality(settings.sources.get(name), history.get(name, (None, None))[1],
                                late.get(name)),
                 "runs": [run_json(r) for r in last_runs(s, name, runs)]}
                for name in names]
