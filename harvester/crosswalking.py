"""The crosswalk stage: raw records -> ICH records + diagnostics + outbox, one transaction a batch.

Mapping itself is pure (``mappings``); this module is where its results meet the store.
It is incremental — a raw record is mapped again only when its content, its deleted flag
or the crosswalk's version changed — and crash-safe, because "what still needs mapping" is
a query over the store, not a memory of what the harvester did.  Every change that the
index must see gets an outbox row in the same transaction (no dual writes).
"""

from __future__ import annotations

import gc
import hashlib
import logging
import multiprocessing
import os
import queue
from functools import lru_cache
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

import orjson
from sqlalchemy import Engine, and_, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.orm import sessionmaker

from harvester.config import Settings, SourceConfig
from harvester.errors import ConfigError, StoreError
from harvester.forking import die_with_parent, fork_is_safe
from harvester.store.checkpoints import utcnow
from harvester.store.models import Diagnostic, IchRecord, Outbox, RawRecord, Suppression

if TYPE_CHECKING:  # the raw store imports the OAI client (httpx, sickle); remap needs neither
    from harvester.store.raw import StoredChange

log = logging.getLogger("ichlinks.crosswalk")

BATCH = 500
SUPPRESSED = "suppressed"  # the quarantine reason of a record the operator withholds
MAX_REMAP_WORKERS = 4  # mapping scales with cores; the store's single writer does not
# Raw ids a remap worker claims at a time: small enough that the workers finish together,
# large enough that claiming (one lock, one keyset query) costs nothing beside mapping.
REMAP_CLAIM_IDS = 1000


@dataclass
class MapSummary:
    source: str
    mapped: int = 0
    published: int = 0
    quarantined: int = 0
    deleted: int = 0
    changed: int = 0
    unchanged: int = 0
    last_id: int = 0

    def absorb(self, part: MapSummary) -> None:
        """Add a worker's summary of the same source (parallel remap)."""
        for name in _MAP_COUNTERS:
            setattr(self, name, getattr(self, name) + getattr(part, name))
        self.last_id = max(self.last_id, part.last_id)

    def as_json(self) -> dict[str, Any]:
        return {"source": self.source, "mapped": self.mapped, "published": self.published,
                "quarantined": self.quarantined, "deleted": self.deleted,
                "changed": self.changed, "unchanged": self.unchanged}


_MAP_COUNTERS = tuple(f.name for f in fields(MapSummary) if f.name not in ("source", "last_id"))


@dataclass
class _Item:
    raw_id: int
    identifier: str
    datestamp: str | None
    sets: tuple[str, ...]
    deleted: bool
    xml: str
    sha256: str
    error: str | None
    harvested_at: datetime | None
    element: Any = None


def source_context(source: SourceConfig):  # type: ignore[no-untyped-def]
    """What the crosswalk knows of a configured source (partner, defaults, rules)."""
    from mappings import SourceContext

    return SourceContext(source=source.name, partner_name=source.partner.name or source.name,
                         partner_country=source.partner.country,
                         metadata_prefix=source.metadata_prefix, defaults=dict(source.defaults),
                         rules=dict(source.rules))


def _crosswalk(source: SourceConfig):  # type: ignore[no-untyped-def]
    from mappings import MappingError, load_crosswalk

    try:
        return load_crosswalk(source.crosswalk)
    except MappingError as exc:
        raise ConfigError(f"crosswalk {source.crosswalk!r} cannot be loaded: {exc}",
                          key=f"sources.{source.name}.mapping") from exc


@lru_cache(maxsize=1024)
def utc_text(value: datetime | None) -> str | None:
    """Seconds-precision UTC text; SQLite hands datetimes back naive, PostgreSQL aware.

    Cached: a page's records share one stored-at time, and strftime costs ~15 us a call.
    """
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def _digest(record: dict[str, Any] | None) -> str:
    """SHA-256 of the record's canonical JSON (sorted keys, no spaces, UTF-8).

    orjson writes byte for byte what ``json.dumps(..., ensure_ascii=False, sort_keys=True,
    separators=(",", ":"))`` writes for these records (a test holds it to that, so digests
    stored by earlier versions still compare), at a fifth of the cost.
    """
    if record is None:
        return ""
    return hashlib.sha256(orjson.dumps(record, option=orjson.OPT_SORT_KEYS)).hexdigest()


def _json_text(value: Any) -> str:
    return orjson.dumps(value).decode("utf-8")


class CrosswalkStage:
    """Maps what changed; used as the harvester's page sink and by ``ichlinks remap``."""

    def __init__(self, engine: Engine, settings: Settings) -> None:
        self.engine = engine
        self.settings = settings
        self.sessions = sessionmaker(engine, expire_on_commit=False)

    # -- the harvester's hooks ----------------------------------------------------------
    def after_page(self, source: SourceConfig, changes: Sequence[StoredChange]) -> None:
        items = [_Item(c.raw_id, c.record.header.identifier, c.record.header.datestamp,
                       tuple(c.record.header.sets), c.record.header.deleted, c.record.xml, c.sha256,
                       c.record.error, c.stored_at, c.record.element) for c in changes]
        self._map_items(source, items, MapSummary(source.name), force=False)

    def after_run(self, source: SourceConfig) -> None:
        self.map_pending(source)

    # -- sweeps over the store ----------------------------------------------------------
    def map_pending(self, source: SourceConfig, *, force: bool = False,
                    after_id: int = 0, through_id: int | None = None,
                    mapped: Callable[[int], None] | None = None) -> MapSummary:
        """Map every raw record of the source that needs it (all of them with ``force``).

        ``after_id`` lets a follower that runs beside the harvest look only at raw records
        stored since its last pass; ``summary.last_id`` is where to continue.  ``through_id``
        ends the range there (a parallel remap worker's claim).  ``mapped`` hears how many
        records each committed batch held (remap's progress).
        """
        summary = MapSummary(source.name, last_id=after_id)
        cw = _crosswalk(source)
        last_id = after_id
        while True:
            with self.sessions() as s:
                stmt = (select(RawRecord.id, RawRecord.identifier, RawRecord.datestamp, RawRecord.sets,
                               RawRecord.deleted, RawRecord.xml, RawRecord.sha256, RawRecord.error,
                               RawRecord.updated_at)
                        .outerjoin(IchRecord, IchRecord.raw_id == RawRecord.id)
                        .where(RawRecord.source == source.name,
                               RawRecord.metadata_prefix == source.metadata_prefix,
                               RawRecord.id > last_id)
                        .order_by(RawRecord.id).limit(BATCH))
                if through_id is not None:
                    stmt = stmt.where(RawRecord.id <= through_id)
                if not force:
                    stmt = stmt.where(or_(IchRecord.id.is_(None),
                                          IchRecord.raw_sha256 != RawRecord.sha256,
                                          IchRecord.deleted != RawRecord.deleted,
                                          and_(RawRecord.deleted.is_(False),
                                               or_(IchRecord.mapping_version.is_(None),
                                                   IchRecord.mapping_version != cw.version))))
                rows = s.connection().execute(stmt).all()  # Core rows: no ORM loading per row
            if not rows:
                return summary
            items = [_Item(r[0], r[1], r[2], tuple(orjson.loads(r[3])), r[4], r[5], r[6], r[7], r[8])
                     for r in rows]
            self._map_items(source, items, summary, force=force)
            last_id = summary.last_id = rows[-1][0]
            if mapped is not None:
                mapped(len(items))

    # -- one batch --------------------------------------------------------------------
    def _map_items(self, source: SourceConfig, items: Sequence[_Item], summary: MapSummary,
                   *, force: bool) -> None:
        from mappings import MappingResult, RawInput, record_id

        if not items:
            return
        cw = _crosswalk(source)
        ctx = source_context(source)
        now = utcnow()
        results: list[tuple[_Item, str, MappingResult | None]] = []
        for item in items:
            if item.deleted:
                results.append((item, record_id(source.name, item.identifier), None))
                continue
            raw = RawInput(identifier=item.identifier, datestamp=item.datestamp, sets=item.sets,
                           deleted=False, xml=item.xml, sha256=item.sha256,
                           harvested_at=utc_text(item.harvested_at),
                           element=item.element)
            result = cw.map(raw, ctx)
            # The crosswalk's record carries this id already (``id`` is not mappable).
            rid = result.record.get("id") if result.record is not None else None
            if not isinstance(rid, str):
                rid = record_id(source.name, item.identifier)
            results.append((item, rid, result))
        ich_new: list[dict[str, Any]] = []
        ich_changed: list[dict[str, Any]] = []
        ich_touched: list[dict[str, Any]] = []
        stale_diag_raw_ids: list[int] = []
        diag_rows: list[dict[str, Any]] = []
        outbox_rows: list[dict[str, Any]] = []
        with self.sessions.begin() as s:
            existing = {row.raw_id: row for row in s.connection().execute(
                select(IchRecord.id, IchRecord.raw_id, IchRecord.output_sha256, IchRecord.deleted,
                       IchRecord.quarantined, IchRecord.version, IchRecord.mapping_version,
                       IchRecord.raw_sha256, Suppression.reason.label("suppressed"))
                .outerjoin(Suppression, Suppression.record_id == IchRecord.id)
                .where(IchRecord.raw_id.in_([i.raw_id for i in items])))}
            for item, rid, result in results:
                summary.mapped += 1
                old = existing.get(item.raw_id)
                diags: list[dict[str, Any]] = []
                if result is None:
                    record, quarantined, deleted = None, False, True
                elif item.error:
                    record, quarantined, deleted = result.record, True, False
                    diags.append({"level": "error", "field": None, "code": "unparseable-record",
                                  "message": item.error, "value": None})
                else:
                    record, quarantined, deleted = result.record, result.quarantined, False
                if result is not None:
                    diags.extend({"level": d.level, "field": d.field, "code": d.code,
                                  "message": d.message, "value": d.value} for d in result.diagnostics)
                    if old is not None and old.suppressed is not None:
                        quarantined = True
                        diags.append({"level": "error", "field": None, "code": SUPPRESSED,
                                      "message": f"withheld from publication by the operator: {old.suppressed}",
                                      "value": None})
                published = not deleted and not quarantined
                summary.published += published
                summary.quarantined += quarantined
                summary.deleted += deleted
                digest = _digest(record)
                was_published = old is not None and not old.deleted and not old.quarantined
                changed = (old is None or old.output_sha256 != digest or old.deleted != deleted
                           or old.quarantined != quarantined)
                if not changed:
                    summary.unchanged += 1
                    if old.mapping_version != cw.version or old.raw_sha256 != item.sha256:
                        ich_touched.append({"b_id": old.id, "mapping_version": cw.version,
                                            "raw_sha256": item.sha256,
                                            "diagnostics": _json_text(diags)})
                    continue
                diags_json = _json_text(diags)
                summary.changed += 1
                values = {"source": source.name, "category": (record or {}).get("category"),
                          "deleted": deleted, "quarantined": quarantined,
                          "record": _json_text(record) if record is not None else None,
                          "diagnostics": diags_json, "mapping": cw.name, "mapping_version": cw.version,
                          "raw_sha256": item.sha256, "output_sha256": digest, "changed_at": now}
                if old is None:
                    ich_new.append({"id": rid, "raw_id": item.raw_id, "version": 1, **values})
                else:
                    ich_changed.append({"b_id": old.id, "version": old.version + 1, **values})
                    stale_diag_raw_ids.append(item.raw_id)
                diag_rows.extend({"raw_id": item.raw_id, "source": source.name, "stage": "mapping",
                                  "level": d["level"], "field": d["field"], "code": d["code"],
                                  "message": d["message"], "value": d["value"]} for d in diags)
                if published or was_published:
                    outbox_rows.append({"record_id": rid, "action": "upsert" if published else "delete",
                                        "created_at": now, "attempts": 0})
            conn = s.connection()
            if ich_new:
                conn.execute(insert(IchRecord), ich_new)
            for rows, cols in ((ich_changed, ich_changed[0].keys() if ich_changed else ()),
                               (ich_touched, ("mapping_version", "raw_sha256", "diagnostics"))):
                if rows:
                    conn.execute(update(IchRecord).where(IchRecord.id == bindparam("b_id"))
                                 .values({c: bindparam(c) for c in cols if c != "b_id"}), rows)
            for start in range(0, len(stale_diag_raw_ids), BATCH):
                conn.execute(delete(Diagnostic).where(
                    Diagnostic.raw_id.in_(stale_diag_raw_ids[start:start + BATCH]),
                    Diagnostic.stage == "mapping"))
            if diag_rows:
                conn.execute(insert(Diagnostic), diag_rows)
            if outbox_rows:
                conn.execute(insert(Outbox), outbox_rows)


def remap(engine: Engine, settings: Settings, sources: Iterable[SourceConfig], *,
          workers: int | None = None,
          progress: Callable[[int], None] | None = None) -> list[MapSummary]:
    """Re-run the crosswalks over the stored raw records (no network).

    Mapping is pure Python and bound by one core, so with two or more cores the records are
    shared out between forked worker processes, each with its own connection and the same
    crash-safe batches as always, and their summaries are added up.  Workers claim ranges of
    raw ids from a shared counter as they go, so they finish together: a fixed split (ids
    modulo n) gave one worker all the even ids, which in a repository harvested set by set
    can mean other scripts, other record sizes and most of the deletions.
    Left to itself (``workers=None``) it forks only from a single-threaded process (see
    :mod:`harvester.forking`).  ``progress`` is told how many raw records have been mapped
    so far: 0 first, then after each batch (each second with workers), and at the end.
    """
    sources = list(sources)
    if progress is not None:
        progress(0)  # the start, which a rate is measured from
    if workers is None:
        workers = min(os.cpu_count() or 1, MAX_REMAP_WORKERS) if fork_is_safe() else 1
    if workers < 2 or "fork" not in multiprocessing.get_all_start_methods():
        stage = CrosswalkStage(engine, settings)
        done = 0

        def mapped(n: int) -> None:
            nonlocal done
            done += n
            if progress is not None:
                progress(done)

        return [stage.map_pending(src, force=True, mapped=mapped) for src in sources]
    from mappings.normalisers.preload import preload

    for src in sources:  # compiled once here, inherited by every worker
        _crosswalk(src)
    preload()  # the vocabulary tables too, instead of once per worker
    with engine.connect() as conn:
        spans = {src.name: conn.execute(
            select(func.min(RawRecord.id), func.max(RawRecord.id))
            .where(RawRecord.source == src.name,
                   RawRecord.metadata_prefix == src.metadata_prefix)).one() for src in sources}
    engine.dispose()  # no pooled connection may cross the fork
    ctx = multiprocessing.get_context("fork")
    results = ctx.Queue()
    done = ctx.Value("q", 0)  # raw records mapped so far, by every worker
    plan = [_RemapClaims(src.name, lo, hi, ctx.Value("q", 0))
            for src in sources for lo, hi in [spans[src.name]] if lo is not None]
    procs = [ctx.Process(target=_remap_worker, name=f"ichlinks-remap-{k}", daemon=True,
                         args=(settings, plan, k, results, os.getpid(), done))
             for k in range(workers)]
    # Everything alive now is inherited and outlives the worker's batches: frozen, the
    # workers' collector never walks it (every full collection walked all inherited objects,
    # and writing their GC headers copied the parent's pages into each worker).
    gc.freeze()
    try:
        for proc in procs:
            proc.start()
    finally:
        gc.unfreeze()
    answers: list[Any] = []
    try:
        while len(answers) < len(procs):
            try:
                answers.append(results.get(timeout=1.0))
            except queue.Empty:
                if progress is not None:
                    progress(done.value)
                dead = [p for p in procs if p.exitcode not in (None, 0)]
                if dead:
                    raise StoreError(f"remap worker {dead[0].name} exited with code "
                                     f"{dead[0].exitcode} before reporting; batches it committed "
                                     "are kept, run remap again") from None
    finally:
        for proc in procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.kill()
    failures = [a for a in answers if isinstance(a, str)]
    if failures:
        raise StoreError(f"remap failed in a worker process: {failures[0]}")
    totals = {src.name: MapSummary(src.name) for src in sources}
    for answer in answers:
        for part in answer:
            totals[part.source].absorb(part)
    if progress is not None:
        progress(done.value)
    return [totals[src.name] for src in sources]


def raw_record_count(engine: Engine, sources: Iterable[SourceConfig]) -> int:
    """How many raw records a remap of these sources goes through (the progress total)."""
    with engine.connect() as conn:
        return sum(int(conn.execute(select(func.count()).select_from(RawRecord).where(
            RawRecord.source == src.name, RawRecord.metadata_prefix == src.metadata_prefix))
            .scalar() or 0) for src in sources)


@dataclass
class _RemapClaims:
    """One source's raw ids, handed out to remap workers ``REMAP_CLAIM_IDS`` at a time."""

    source: str
    first_id: int
    last_id: int
    claimed: Any  # multiprocessing.Value("q"): how many ranges have been claimed so far

    def claim(self) -> tuple[int, int] | None:
        """The next unclaimed ``(after_id, through_id)``, or None when all are taken."""
        with self.claimed.get_lock():
            k = self.claimed.value
            self.claimed.value = k + 1
        start = self.first_id + k * REMAP_CLAIM_IDS
        if start > self.last_id:
            return None
        return start - 1, min(start + REMAP_CLAIM_IDS - 1, self.last_id)


def _remap_worker(settings: Settings, plan: list[_RemapClaims], k: int, results: Any,
                  parent: int, done: Any) -> None:
    from harvester.collector import settle_for_batches
    from harvester.store.engine import make_engine

    die_with_parent(parent)
    settle_for_batches()
    engine = make_engine(settings.store)
    try:
        stage = CrosswalkStage(engine, settings)

        def mapped(n: int) -> None:
            with done.get_lock():
                done.value += n

        summaries = []
        for claims in plan:
            summary = MapSummary(claims.source)
            while (claim := claims.claim()) is not None:
                summary.absorb(stage.map_pending(settings.sources[claims.source], force=True,
                                                 after_id=claim[0], through_id=claim[1],
                                                 mapped=mapped))
            summaries.append(summary)
        results.put(summaries)
    except BaseException as exc:  # reported by the parent, which exits non-zero
        log.exception("remap worker %d failed", k)
        results.put(f"{type(exc).__name__}: {exc}")
    finally:
        engine.dispose()
