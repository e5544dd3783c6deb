"""Records withheld from publication at a community's or partner's request.

Intangible heritage records can hold knowledge a community decides should not be shown, or a
partner may withdraw consent for one record before its own repository catches up.  The raw
record is kept (nothing harvested is ever thrown away); a suppression makes the crosswalk
quarantine the record on every mapping, now and after every re-harvest or remap, until it is
lifted.  Quarantining it is a change like any other: the index drops it, the OAI-PMH feed
shows it deleted, the API and pages refuse it, and the partner report counts it.

The change is applied at once, under the source's harvest lease, so a harvest of the same
source cannot map the record between the suppression and its effect.  ``ichlinks remap`` takes
no lease: a remap mapping the same record in the same instant could still write its
unsuppressed output once; ``ichlinks record`` shows the state, and suppressing again settles it.
"""

from __future__ import annotations

import getpass
from typing import Any

from sqlalchemy import Engine, delete, select
from sqlalchemy.orm import Session

from harvester.config import Settings
from harvester.errors import SuppressionError
from harvester.store.checkpoints import utcnow
from harvester.store.models import Suppression


def _locate(engine: Engine, settings: Settings, key: str, source: str | None) -> Any:
    from harvester.record_trace import find_records
    from harvester.runner import select_sources

    sources = select_sources(settings, [source]) if source else list(settings.sources.values())
    found = [f for f in find_records(engine, key, sources) if source is None or f.raw.source == source]
    if not found:
        raise SuppressionError(f"no stored record {key!r} (looked up as an ICH record id and as an "
                               "OAI identifier of the configured sources)")
    if len(found) > 1:
        raise SuppressionError(f"{key!r} is a record of several sources "
                               f"({', '.join(f.raw.source for f in found)}); name one with --source")
    (one,) = found
    if one.ich is None:
        raise SuppressionError(f"{key!r} ({one.raw.source}) is harvested but not mapped yet; "
                               f"`ichlinks remap {one.raw.source}` maps it, then suppress it")
    return one


def _apply(engine: Engine, settings: Settings, found: Any, change: Any, relay: bool) -> dict[str, Any]:
    """Run ``change`` in one transaction and map the record again, under the source's lease."""
    from harvester.crosswalking import CrosswalkStage
    from harvester.runner import lease_name
    from harvester.store.leases import hold_lease, new_owner_token

    source = settings.sources.get(found.raw.source)
    if source is None:
        raise SuppressionError(f"source {found.raw.source!r} is no longer configured, so its "
                               "records cannot be mapped again; configure it to change this record")
    with hold_lease(engine, lease_name(source.name), new_owner_token()) as held:
        if held is None:
            raise SuppressionError(f"{source.name} is being harvested now; try again when the "
                                   "harvest ends (ichlinks status shows it)")
        with Session(engine) as s, s.begin():
            change(s)
        CrosswalkStage(engine, settings).map_pending(source, force=True, after_id=found.raw.id - 1,
                                                     through_id=found.raw.id)
    out: dict[str, Any] = {"id": found.ich.id, "source": source.name,
                           "identifier": found.raw.identifier, "relay": None}
    if relay:
        from harvester.relay import relay_outbox

        out["relay"] = relay_outbox(engine, settings.search)
    return out


def suppress(engine: Engine, settings: Settings, key: str, reason: str, *,
             source: str | None = None, by: str | None = None, relay: bool = True) -> dict[str, Any]:
    """Withhold the record ``key`` names (ICH id or OAI identifier) from publication."""
    reason = reason.strip()
    if not reason:
        raise SuppressionError("give the reason: it is kept with the suppression and shown to "
                               "whoever asks why the record is not published")
    found = _locate(engine, settings, key, source)
    who = by or getpass.getuser()

    def record(s: Session) -> None:
        row = s.get(Suppression, found.ich.id)
        if row is None:
            s.add(Suppression(record_id=found.ich.id, reason=reason, suppressed_at=utcnow(),
                              suppressed_by=who))
        else:
            row.reason, row.suppressed_at, row.suppressed_by = reason, utcnow(), who

    return {**_apply(engine, settings, found, record, relay), "suppressed": True, "reason": reason}


def release(engine: Engine, settings: Settings, key: str, *, source: str | None = None,
            relay: bool = True) -> dict[str, Any]:
    """Lift the suppression of ``key``: the record is mapped again and published if it can be."""
    found = _locate(engine, settings, key, source)
    with Session(engine) as s:
        if s.get(Suppression, found.ich.id) is None:
            raise SuppressionError(f"{key!r} ({found.raw.source}) is not suppressed")

    def lift(s: Session) -> None:
        s.execute(delete(Suppression).where(Suppression.record_id == found.ich.id))

    return {**_apply(engine, settings, found, lift, relay), "suppressed": False}


def list_suppressions(engine: Engine) -> list[dict[str, Any]]:
    from harvester.crosswalking import utc_text
    from harvester.store.models import IchRecord, RawRecord

    with Session(engine) as s:
        rows = s.execute(select(Suppression, IchRecord.source, RawRecord.identifier)
                         .outerjoin(IchRecord, IchRecord.id == Suppression.record_id)
                         .outerjoin(RawRecord, RawRecord.id == IchRecord.raw_id)
                         .order_by(Suppression.suppressed_at, Suppression.record_id)).all()
        return [{"id": sup.record_id, "source": source, "identifier": identifier,
                 "reason": sup.reason, "suppressed_by": sup.suppressed_by,
                 "suppressed_at": utc_text(sup.suppressed_at)}
                for sup, source, identifier in rows]
