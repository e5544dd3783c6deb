"""Checkpoints, harvest runs and Identify facts: the harvest's memory between processes."""

from __future__ import annotations

import json
from datetime import datetime, timezone
from functools import cache
from typing import Any

from sqlalchemy import Update, bindparam, case, func, select, update
from sqlalchemy.orm import Session

from harvester.store.models import Checkpoint, HarvestRun, Repository, SourceState

RUN_COUNTERS = ("pages", "records", "new", "updated", "unchanged", "deleted", "failed",
                "refused_deletes", "requests")


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def load_checkpoint(session: Session, source: str, set_spec: str | None,
                    metadata_prefix: str) -> Checkpoint:
    key = (source, set_spec or "", metadata_prefix)
    cp = session.get(Checkpoint, key)
    if cp is None:
        cp = Checkpoint(source=key[0], set_spec=key[1], metadata_prefix=key[2], in_progress=False,
                        pages=0, epoch=0, completed_epoch=0, updated_at=utcnow())
        session.add(cp)
        session.flush()
    return cp


@cache
def _advance(last_page: bool) -> Update:
    """The checkpoint UPDATE of one committed page, built once: it runs for every page of
    every harvest, and building the expression cost more than running it."""
    c = Checkpoint.__table__.c
    start = func.coalesce(c.window_start, bindparam("b_start", type_=c.window_start.type),
                          c.window_from)
    values: dict[str, Any] = {
        "window_start": start, "pages": c.pages + 1, "cursor": bindparam("b_cursor"),
        "complete_list_size": bindparam("b_size"), "updated_at": bindparam("b_now"),
        "token": bindparam("b_token")}
    if last_page:
        values["in_progress"] = False
        values["high_water"] = func.coalesce(start, c.high_water)
        values["completed_epoch"] = case((c.mode == "full", bindparam("b_epoch")),
                                         else_=c.completed_epoch)
    return (update(Checkpoint.__table__)
            .where(c.source == bindparam("b_source"), c.set_spec == bindparam("b_set"),
                   c.metadata_prefix == bindparam("b_prefix"))
            .values(values))


def advance_checkpoint(session: Session, key: tuple[str, str, str], *, start: str | None,
                       cursor: int | None, complete_list_size: int | None, now: datetime,
                       next_token: str | None, epoch: int) -> None:
    """One page committed: count it, keep its token, and close the window after the last.

    The window's start is set once, by its first page (``start``: the server's date for it).
    """
    params: dict[str, Any] = {"b_source": key[0], "b_set": key[1], "b_prefix": key[2],
                              "b_start": start, "b_cursor": cursor, "b_size": complete_list_size,
                              "b_now": now, "b_token": next_token}
    if next_token is None:
        params["b_epoch"] = epoch
    session.execute(_advance(next_token is None), params)


def source_state(session: Session, source: str) -> SourceState:
    state = session.get(SourceState, source)
    if state is None:
        state = SourceState(source=source, full_epoch=0, full_in_progress=False)
        session.add(state)
        session.flush()
    return state


def _fit(value: Any, column: str) -> str | None:
    """An Identify value trimmed and cut to its column: these are notes about the server,
    and a wordy one (``2.0 (DSpace custom build)``) must not fail the harvest on PostgreSQL."""
    if value is None:
        return None
    text = str(value).strip()
    length = Repository.__table__.c[column].type.length
    return text if length is None or len(text) <= length else text[:length - 1] + "…"


def save_repository(session: Session, source: str, base_url: str, identify: dict[str, Any]) -> None:
    repo = session.get(Repository, source) or Repository(source=source)
    repo.base_url = base_url
    repo.repository_name = identify.get("repositoryName")
    repo.protocol_version = _fit(identify.get("protocolVersion"), "protocol_version")
    repo.granularity = _fit(identify.get("granularity"), "granularity")
    repo.earliest_datestamp = _fit(identify.get("earliestDatestamp"), "earliest_datestamp")
    repo.deleted_record = _fit(identify.get("deletedRecord"), "deleted_record")
    emails = identify.get("adminEmail") or []
    repo.admin_emails = json.dumps(emails if isinstance(emails, list) else [emails])
    repo.identified_at = utcnow()
    session.merge(repo)


def start_run(session: Session, source: str, mode: str) -> int:
    run = HarvestRun(source=source, mode=mode, status="running", started_at=utcnow(),
                     **{c: 0 for c in RUN_COUNTERS})
    session.add(run)
    session.flush()
    return run.id


def update_run(session: Session, run_id: int, **values: Any) -> None:
    session.execute(update(HarvestRun).where(HarvestRun.id == run_id).values(**values))


def last_runs(session: Session, source: str, limit: int = 5) -> list[HarvestRun]:
    return list(session.scalars(select(HarvestRun).where(HarvestRun.source == source)
                                .order_by(HarvestRun.started_at.desc(), HarvestRun.id.desc())
                                .limit(limit)))
