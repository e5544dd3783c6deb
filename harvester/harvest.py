"""Harvest one source into the raw store: windows, checkpoints, resumption, reconciliation.

The harvest identity is (source, set, metadataPrefix).  Each page is committed in one
transaction with its checkpoint, so a process killed at any moment resumes from the
last committed token and, thanks to upserts keyed by OAI identifier, ends with exactly
the repository's records.  The incremental ``from`` is the server's own responseDate at
the start of the last completed window (never the local clock), overlapped by one
granularity unit.
"""

from __future__ import annotations

import hashlib
import logging
import queue
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field, replace
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import Connection, Engine, func, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import sessionmaker

from harvester.config import HarvestConfig, SourceConfig
from harvester.errors import (BadArgument, BadResumptionToken, HarvestError, HarvestLoopError,
                              IchlinksError, StoreError, VanishedSet)
from harvester.oai.client import HostPools, OAIClient, Page, Recognise
from harvester.oai.response import OAIResponse
from harvester.oai.response import RawRecord as ParsedRecord
from harvester.oai.retry import RetryPolicy
from harvester.store import page_memos
from harvester.store.checkpoints import (advance_checkpoint, load_checkpoint, save_repository,
                                         source_state, start_run, update_run, utcnow)
from harvester.store.models import Checkpoint, RawRecord
from harvester.store.raw import PageCounts, StoredChange, stamp_seen, store_page
from harvester.store.statistics import GrowthAnalyzer

log = logging.getLogger("ichlinks.harvest")

DAY = "YYYY-MM-DD"
MAX_TOKEN_RESTARTS = 3
# How often a running harvest writes its counts to its run row, for `ichlinks status`.
RUN_REFRESH_S = 10.0
DATE_COLUMN = Checkpoint.__table__.c.window_start.type.length


@dataclass
class HarvestResult:
    """The per-source summary; :meth:`as_json` is the ``harvest --json`` contract."""

    source: str
    status: str = "ok"
    mode: str = "incremental"
    from_: str | None = None
    until: str | None = None
    pages: int = 0
    records: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0
    failed: int = 0
    refused_deletes: int = 0
    error: str | None = None
    duration_s: float = 0.0
    requests: int = 0
    run_id: int | None = None
    notes: list[str] = field(default_factory=list)
    recognised_pages: int = 0  # pages known by fingerprint, their records not parsed
    rewritten: int = 0  # stored rows rewritten in place: a follower's cursor passes them by
    # When the run row last got these counts (monotonic clock); see Harvester._refresh_run.
    refreshed_at: float | None = field(default=None, repr=False, compare=False)

    def add(self, counts: PageCounts) -> None:
        self.recognised_pages += counts.recognised
        self.rewritten += counts.rewritten
        self.records += counts.records
        self.new += counts.new
        self.updated += counts.updated
        self.unchanged += counts.unchanged
        self.deleted += counts.deleted
        self.failed += counts.failed

    def as_json(self) -> dict[str, Any]:
        data = asdict(self)
        return {"source": data["source"], "status": data["status"], "mode": data["mode"],
                "from": data["from_"], "until": data["until"], "pages": data["pages"],
                "records": data["records"], "new": data["new"], "updated": data["updated"],
                "unchanged": data["unchanged"], "deleted": data["deleted"], "failed": data["failed"],
                "refused_deletes": data["refused_deletes"], "error": data["error"],
                "duration_s": round(data["duration_s"], 3), "requests": data["requests"],
                "recognised_pages": data["recognised_pages"], "rewritten": data["rewritten"],
                "notes": list(data["notes"])}


class PageSink(Protocol):
    """What runs after each committed page and after the run (the crosswalk stage)."""

    def after_page(self, source: SourceConfig, changes: Sequence[StoredChange]) -> None: ...

    def after_run(self, source: SourceConfig) -> None: ...


class Progress(Protocol):
    def update(self, source: str, *, pages: int, records: int, total: int | None) -> None: ...


class Stopped(IchlinksError):
    """A stop was asked for (SIGTERM/SIGINT); the current page was committed first."""


def parse_oai_datetime(value: str | None) -> datetime | None:
    if not value:
        return None
    text = value.strip()
    try:
        if len(text) == 10:
            return datetime.strptime(text, "%Y-%m-%d").replace(tzinfo=timezone.utc)
        if text.endswith("Z"):
            text = text[:-1] + "+00:00"
        parsed = datetime.fromisoformat(text)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=timezone.utc)
    return parsed.astimezone(timezone.utc)


def format_oai_datetime(value: datetime, granularity: str | None) -> str:
    if granularity == DAY:
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%dT%H:%M:%SZ")


def incremental_from(high_water: str | None, granularity: str | None) -> str | None:
    """The next window's ``from``: the last window's server date less one granularity unit."""
    when = parse_oai_datetime(high_water)
    if when is None:
        return None
    step = timedelta(days=1) if granularity == DAY else timedelta(seconds=1)
    return format_oai_datetime(when - step, granularity)


class Harvester:
    """Runs harvests against one store; safe to share between source threads."""

    def __init__(self, engine: Engine, *, pools: HostPools | None = None,
                 settings: HarvestConfig | None = None, sink: PageSink | None = None,
                 progress: Progress | None = None, stop: threading.Event | None = None,
                 sleep: Callable[[float], None] | None = None, prefetch: bool = True) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self.settings = settings or HarvestConfig()
        self.pools = pools or HostPools(user_agent=self.settings.user_agent)
        self.sink = sink
        self.progress = progress
        self.stop = stop or threading.Event()
        self.sleep = sleep
        self.prefetch = prefetch

    def client_for(self, source: SourceConfig) -> OAIClient:
        http = self.pools.client_for(source.url, max_connections=source.politeness.max_connections,
                                     timeout_s=source.timeout_s)
        return OAIClient(source.url, http=http, source=source.name,
                         retry=RetryPolicy(retries=source.retries, max_backoff_s=source.max_backoff_s),
                         delay_s=source.politeness.delay_s,
                         follow_redirects=source.follow_redirects, sleep=self._sleep)

    def _sleep(self, seconds: float) -> None:
        """Waits between retries end early on a stop request (SIGTERM must not wait 5 minutes)."""
        if self.sleep is not None:
            self.sleep(seconds)
        elif self.stop.wait(seconds):
            raise Stopped("stopped while waiting to retry")

    # -- one source ----------------------------------------------------------------
    def harvest(self, source: SourceConfig, *, full: bool = False,
                allow_mass_delete: bool = False) -> HarvestResult:
        started = time.monotonic()
        result = HarvestResult(source=source.name, mode="full" if full else "incremental")
        client = self.client_for(source)
        try:
            with self.sessions.begin() as s:
                result.run_id = start_run(s, source.name, result.mode)
        except SQLAlchemyError as exc:
            raise StoreError(f"cannot record the harvest run for {source.name}: {exc}") from exc
        log.info("%s: harvest started (%s)", source.name, result.mode)
        try:
            identify = client.identify()
            with self.sessions.begin() as s:
                save_repository(s, source.name, source.url, identify)
            granularity = (identify.get("granularity") or "").strip() or None
            policy = (identify.get("deletedRecord") or "").strip().lower() or None
            # Only reconciliation reads the seen stamps, and it runs only for these policies.
            mark_seen = policy in RECONCILED_POLICIES
            with self.sessions.begin() as s:
                state = source_state(s, source.name)
                if full and not state.full_in_progress:
                    state.full_epoch += 1
                    state.full_in_progress = True
                epoch = state.full_epoch
                full_running = state.full_in_progress
                if full_running and not mark_seen:
                    state.unmarked_epoch = epoch
            all_complete = True
            listed = _ListedSets(client, result)
            statistics = GrowthAnalyzer(self.engine)
            statistics.start()
            set_errors: list[str] = []
            for set_spec in source.sets or (None,):
                try:
                    complete = self._harvest_window(client, source, set_spec, result, full=full,
                                                    full_running=full_running, epoch=epoch,
                                                    granularity=granularity, listed=listed,
                                                    mark_seen=mark_seen, statistics=statistics)
                except (BadArgument, VanishedSet) as exc:
                    if set_spec is None:
                        raise
                    # One configured set gone must not stop the others (nor count as complete).
                    log.error("%s: set %s: %s", source.name, set_spec, exc)
                    set_errors.append(f"set {set_spec}: {exc}")
                    complete = False
                all_complete = all_complete and complete
            statistics.finish()
            if full_running and all_complete:
                self._finish_full(source, result, epoch, policy, allow_mass_delete)
            # A complete full list met every page that still exists; a run that did not
            # look pages up (recognition switched off) says nothing about which are gone.
            met_every_page = (full_running and all_complete
                              and self.settings.recognise_unchanged_pages)
            if met_every_page:
                with self.sessions.begin() as s:
                    page_memos.prune(s, source.name, unused_before=epoch)
            if set_errors:
                every_set_failed = len(set_errors) == len(source.sets)
                result.status = "failed" if every_set_failed else "partial"
                result.error = "; ".join(set_errors)
        except Stopped as exc:
            result.status, result.error = "partial", str(exc)
        except HarvestError as exc:
            result.status = "partial" if exc.retryable else "failed"
            result.error = str(exc)
            log.error("%s: %s", source.name, exc)
        except (StoreError, SQLAlchemyError) as exc:
            result.status, result.error = "failed", f"store failed: {exc}"
            log.error("%s: store failed: %s", source.name, exc)
        finally:
            result.requests = client.requests
            result.notes.extend(client.notes)
        if self.sink is not None:
            try:
                self.sink.after_run(source)
            except Exception as exc:  # the crosswalk stage must not turn a good harvest into a crash
                log.exception("%s: crosswalk stage failed after the run", source.name)
                result.notes.append(f"crosswalk stage failed: {exc}")
        result.duration_s = time.monotonic() - started
        try:
            with self.sessions.begin() as s:
                update_run(s, result.run_id, status=result.status, mode=result.mode, ended_at=utcnow(),
                           window_from=result.from_, window_until=result.until, pages=result.pages,
                           records=result.records, new=result.new, updated=result.updated,
                           unchanged=result.unchanged, deleted=result.deleted, failed=result.failed,
                           refused_deletes=result.refused_deletes, requests=result.requests,
                           error=result.error)
        except SQLAlchemyError as exc:
            log.error("%s: cannot record the end of the run: %s", source.name, exc)
            if result.status == "ok":
                result.status, result.error = "failed", f"store failed: {exc}"
        log.info("%s: %s, %d records (%d new, %d updated, %d unchanged, %d deleted, %d failed) in %.1fs%s",
                 source.name, result.status, result.records, result.new, result.updated,
                 result.unchanged, result.deleted, result.failed, result.duration_s,
                 f"; {result.recognised_pages} of {result.pages} pages recognised unchanged by "
                 "fingerprint" if result.recognised_pages else "")
        return result

    # -- one (source, set, prefix) window -------------------------------------------
    def _harvest_window(self, client: OAIClient, source: SourceConfig, set_spec: str | None,
                        result: HarvestResult, *, full: bool, full_running: bool, epoch: int,
                        granularity: str | None, listed: _ListedSets | None = None,
                        mark_seen: bool = True, statistics: GrowthAnalyzer | None = None) -> bool:
        prefix = source.metadata_prefix
        with self.sessions.begin() as s:
            cp = load_checkpoint(s, source.name, set_spec, prefix)
            if full_running and cp.completed_epoch == epoch and not cp.in_progress:
                return True  # this set finished earlier in the same full harvest
            resume = cp.in_progress and (cp.mode == "full" or not full)
            if resume:
                mode = cp.mode or "incremental"
                window_from, token = cp.window_from, cp.token
            else:
                mode = "full" if (full_running or cp.high_water is None) else "incremental"
                window_from = None if mode == "full" else incremental_from(cp.high_water, granularity)
                token = None
                cp.in_progress, cp.mode, cp.window_from, cp.window_start = True, mode, window_from, None
                cp.token, cp.cursor, cp.complete_list_size, cp.pages = None, None, None, 0
                cp.epoch = epoch
                cp.updated_at = utcnow()
        if mode == "full":
            result.mode = "full"
        if result.from_ is None:
            result.from_ = window_from
        log.info("%s: %s window set=%s from=%s%s", source.name, mode, set_spec or "-",
                 window_from or "-", " (resuming)" if token else "")
        if self.stop.is_set():
            raise Stopped("stopped by signal before the window started")
        recogniser = (self._recogniser(source) if self.settings.recognise_unchanged_pages
                      else None)
        pages = self._pages(client, source, set_spec, window_from, token, listed, recogniser)
        if self.prefetch:
            pages = prefetched(pages)
        try:
            for page, records, next_token in pages:
                counts = self._commit_page(source, set_spec, page, records, next_token, epoch,
                                           result.run_id, mark_seen=mark_seen,
                                           remember=window_from is None)
                if statistics is not None:
                    statistics.wrote(len(counts.changes))
                result.pages += 1
                result.add(counts)
                self._refresh_run(source, result, client.requests)
                if result.until is None:
                    with self.sessions() as s:
                        cp = s.get(Checkpoint, (source.name, set_spec or "", prefix))
                        result.until = cp.window_start if cp else None
                if self.progress is not None:
                    tok = page.response.token
                    self.progress.update(source.name, pages=result.pages, records=result.records,
                                         total=tok.complete_list_size if tok else None)
                if self.sink is not None and counts.changes:
                    try:
                        self.sink.after_page(source, counts.changes)
                    except Exception:  # mapping is re-run from the store after the run
                        log.exception("%s: crosswalk stage failed on a page; will retry after the run",
                                      source.name)
                if next_token is None:
                    return True
                if self.stop.is_set():
                    raise Stopped("stopped by signal after a committed page")
        finally:
            close = getattr(pages, "close", None)
            if close is not None:
                close()
            if recogniser is not None:
                recogniser.close()
        return True

    def _pages(self, client: OAIClient, source: SourceConfig, set_spec: str | None,
               window_from: str | None, token: str | None, listed: _ListedSets | None = None,
               recognise: Recognise | None = None,
               ) -> Iterator[tuple[Page, list[Any], str | None]]:
        """The window's pages in order, each with its records and the token that follows it.

        Runs ahead of the store (in a prefetch thread), so it alone follows tokens: loops are
        detected here, and an expired token restarts the window from its ``from``.
        """
        restarts = 0
        recent_tokens: deque[str] = deque(maxlen=1000)
        empty_run = 0
        while True:
            try:
                page = client.list_page("ListRecords", metadata_prefix=source.metadata_prefix,
                                        set_spec=set_spec, from_=window_from, token=token,
                                        defer_records=True, recognise=recognise)
            except BadResumptionToken as exc:
                restarts += 1
                if restarts > MAX_TOKEN_RESTARTS or token is None:
                    raise
                log.warning("%s: %s; restarting the window from %s", source.name, exc,
                            window_from or "the start")
                token = None
                continue
            if page.empty and token is None and set_spec is not None and listed is not None \
                    and not listed.contains(set_spec):
                raise VanishedSet(f"noRecordsMatch, and the repository no longer lists set "
                                  f"{set_spec!r} in ListSets (renamed or removed?); its records "
                                  "were neither harvested nor tombstoned",
                                  source=source.name, url=page.url, verb="ListRecords")
            next_token = page.token
            recognised = page.recognised is not None
            records = [] if page.empty or recognised else _with_page_diagnostics(page.response)
            if next_token is not None:
                digest = hashlib.sha256(next_token.encode("utf-8")).hexdigest()
                if next_token == token or digest in recent_tokens:
                    raise HarvestLoopError("the server sent back a resumption token already used; "
                                           "stopping instead of looping", source=source.name,
                                           url=page.url, verb="ListRecords", token=next_token)
                recent_tokens.append(digest)
                empty_run = empty_run + 1 if not (records or recognised) else 0
                if empty_run > self.settings.max_empty_pages:
                    raise HarvestLoopError(f"{empty_run} pages in a row without records; stopping",
                                           source=source.name, url=page.url, verb="ListRecords",
                                           token=next_token)
            yield page, records, next_token
            if next_token is None:
                return
            token = next_token

    def _recogniser(self, source: SourceConfig) -> _PageRecogniser:
        return _PageRecogniser(self.engine, source)

    def _refresh_run(self, source: SourceConfig, result: HarvestResult, requests: int) -> None:
        """Write the counts so far to the run row, at most every ``RUN_REFRESH_S``.

        Without it a harvest of hours shows as "running, 0 records" to ``ichlinks status``
        and the service until it ends.  The pages counted are committed already; a failure
        here only leaves the row behind, so it is logged, not raised.
        """
        if result.run_id is None:
            return
        now = time.monotonic()
        if result.refreshed_at is not None and now - result.refreshed_at < RUN_REFRESH_S:
            return
        result.refreshed_at = now
        try:
            with self.sessions.begin() as s:
                update_run(s, result.run_id, pages=result.pages, records=result.records,
                           new=result.new, updated=result.updated, unchanged=result.unchanged,
                           deleted=result.deleted, failed=result.failed, requests=requests)
        except SQLAlchemyError as exc:
            log.warning("%s: cannot record the counts so far: %s", source.name, exc)

    def _commit_page(self, source: SourceConfig, set_spec: str | None, page: Page,
                     records: Sequence[Any], next_token: str | None, epoch: int,
                     run_id: int | None, *, mark_seen: bool = True,
                     remember: bool = True) -> PageCounts:
        """Store one page, or confirm its memo, with its checkpoint in one transaction.

        Only pages of a whole list (``remember``) leave memos: a window from a date is
        listed once, so its pages would never come back, and its memos would only pile up
        until the next complete full harvest prunes them.
        """
        now = utcnow()
        key = (source.name, set_spec or "", source.metadata_prefix)
        try:
            with self.sessions.begin() as s:
                known: page_memos.KnownPage | None = page.recognised
                usable_date = _usable_date(page.response.response_date)
                if known is not None and (
                        (usable_date is None and known.max_datestamp is None)
                        or not page_memos.confirm(s, source.name, source.metadata_prefix, known,
                                                  epoch)):
                    # Out of date since the look-up (an earlier page rewrote a row), or no
                    # date for the window: parse the page after all.
                    known, page = None, page.parsed_in_full()
                    records = _with_page_diagnostics(page.response)
                if known is not None:
                    counts = PageCounts(records=known.records, failed=known.failed,
                                        unchanged=known.records - known.failed, recognised=True)
                    if mark_seen and (epoch or run_id is not None):
                        stamp_seen(s, known.raw_ids, epoch, run_id)
                    fallback_date = known.max_datestamp
                else:
                    counts = store_page(s, source=source.name,
                                        metadata_prefix=source.metadata_prefix, records=records,
                                        now=now, epoch=epoch, run_id=run_id, mark_seen=mark_seen)
                    fallback_date = None if usable_date else _max_datestamp(records)
                    if (remember and page.fingerprint and counts.records
                            and len(counts.raw_ids) == counts.records
                            and not page.response.diagnostics):
                        page_memos.remember(s, source.name, source.metadata_prefix,
                                            page.fingerprint, records=counts.records,
                                            failed=counts.failed, max_datestamp=fallback_date,
                                            raw_ids=counts.raw_ids, epoch=epoch)
                tok = page.response.token
                advance_checkpoint(s, key, start=usable_date or fallback_date,
                                   cursor=tok.cursor if tok else None,
                                   complete_list_size=tok.complete_list_size if tok else None,
                                   now=now, next_token=next_token, epoch=epoch)
        except SQLAlchemyError as exc:
            raise StoreError(f"{source.name}: cannot store page {page.url}: {exc}") from exc
        return counts

    # -- full-harvest reconciliation ---------------------------------------------------
    def _finish_full(self, source: SourceConfig, result: HarvestResult, epoch: int,
                     policy: str | None, allow_mass_delete: bool) -> None:
        """After a complete full list: tombstone what the server no longer lists.

        Only for repositories that do not keep deletions (deletedRecord no/transient);
        never more than ``max_delete_fraction`` of the live records unless allowed, because
        a half-broken server listing nothing must not wipe a partner's collection.
        """
        with self.sessions.begin() as s:
            unmarked = source_state(s, source.name).unmarked_epoch == epoch
            if policy in RECONCILED_POLICIES and unmarked:
                log.warning("%s: the repository's deletedRecord policy became %r during this full "
                            "harvest, so not every record seen was stamped; nothing is tombstoned "
                            "now, the next full harvest reconciles", source.name, policy)
            elif policy in RECONCILED_POLICIES:
                base = (RawRecord.source == source.name,
                        RawRecord.metadata_prefix == source.metadata_prefix,
                        RawRecord.deleted.is_(False))
                live = s.scalar(select(func.count()).select_from(RawRecord).where(*base)) or 0
                missing = s.scalar(select(func.count()).select_from(RawRecord)
                                   .where(*base, RawRecord.seen_epoch < epoch)) or 0
                if missing:
                    if missing > source.max_delete_fraction * live and not allow_mass_delete:
                        result.refused_deletes = missing
                        result.status = "partial"
                        result.error = (f"refused to tombstone {missing} of {live} live records not in "
                                        f"the full list (more than max_delete_fraction="
                                        f"{source.max_delete_fraction}); rerun with --allow-mass-delete "
                                        "if the repository really dropped them")
                        log.warning("%s: %s", source.name, result.error)
                    else:
                        now = utcnow()
                        ids = list(s.scalars(select(RawRecord.id).where(*base, RawRecord.seen_epoch < epoch)))
                        generation = page_memos.next_generation(s, source.name) if ids else 0
                        for start in range(0, len(ids), 500):
                            chunk = ids[start:start + 500]
                            s.execute(update(RawRecord).where(RawRecord.id.in_(chunk))
                                      .values(deleted=True, updated_at=now,
                                              rewritten_generation=generation))
                        result.deleted += len(ids)
                        result.rewritten += len(ids)
                        log.info("%s: tombstoned %d records missing from the full list", source.name, len(ids))
            state = source_state(s, source.name)
            if state.full_epoch == epoch:
                state.full_in_progress = False


_DONE = object()
# deletedRecord policies under which a full harvest tombstones what the list no longer holds.
RECONCILED_POLICIES = ("no", "transient")


def prefetched(pages: Iterator[Any], depth: int = 2) -> Iterator[Any]:
    """Fetch and parse the next pages in a thread while the current one is being stored.

    Pages still come out in order and are committed one by one, so resumption is unchanged:
    a crash loses at most the pages fetched ahead, which the next run fetches again.  The
    producer's exceptions are raised here, in sequence.
    """
    buffer: queue.Queue[Any] = queue.Queue(maxsize=depth)
    finished = threading.Event()

    def produce() -> None:
        try:
            for item in pages:
                while not finished.is_set():
                    try:
                        buffer.put((item, None), timeout=0.2)
                        break
                    except queue.Full:
                        continue
                if finished.is_set():
                    return
            buffer.put((_DONE, None))
        except BaseException as exc:  # handed to the consumer, raised there
            buffer.put((_DONE, exc))

    thread = threading.Thread(target=produce, name="oai-prefetch", daemon=True)
    thread.start()
    try:
        while True:
            item, exc = buffer.get()
            if exc is not None:
                raise exc
            if item is _DONE:
                return
            yield item
    finally:
        finished.set()
        deadline = time.monotonic() + 1.0  # a request in flight is abandoned, not awaited
        while thread.is_alive() and time.monotonic() < deadline:
            try:
                buffer.get_nowait()
            except queue.Empty:
                thread.join(0.05)


class _PageRecogniser:
    """Asks the store, from the prefetch thread, whether it knows a page's fingerprint.

    Only a hint that spares the parse: ``Harvester._commit_page`` confirms it in the page's
    own transaction, and a store that cannot answer just means the page is parsed.  One
    connection serves the whole window (a pool checkout per page, with PostgreSQL's
    pre-ping, cost more than the look-up); each look-up ends its transaction, so SQLite's
    snapshot is never older than the page.
    """

    def __init__(self, engine: Engine, source: SourceConfig) -> None:
        self.engine = engine
        self.source = source
        self._connection: Connection | None = None

    def __call__(self, digest: str) -> page_memos.KnownPage | None:
        try:
            if self._connection is None:
                self._connection = self.engine.connect()
            try:
                return page_memos.lookup(self._connection, self.source.name,
                                         self.source.metadata_prefix, digest)
            finally:
                self._connection.rollback()
        except SQLAlchemyError as exc:
            log.debug("%s: page memo look-up failed, parsing the page: %s", self.source.name, exc)
            self.close()
            return None

    def close(self) -> None:
        connection, self._connection = self._connection, None
        if connection is not None:
            try:
                connection.close()
            except SQLAlchemyError:
                pass


class _ListedSets:
    """The repository's set specs, asked for once per run and only when a set comes back empty."""

    def __init__(self, client: OAIClient, result: HarvestResult) -> None:
        self.client = client
        self.result = result
        self._specs: frozenset[str] | None = None
        self._asked = False

    def contains(self, spec: str) -> bool:
        """False only when ListSets answered and lacks ``spec``; unknown counts as listed."""
        if not self._asked:
            self._asked = True
            try:
                self._specs = frozenset((s.get("setSpec") or "").strip()
                                        for s in self.client.list_sets())
            except HarvestError as exc:
                self.result.notes.append(f"ListSets failed, vanished sets not checked: {exc}")
        return self._specs is None or spec in self._specs


def _with_page_diagnostics(response: OAIResponse) -> list[ParsedRecord]:
    """The page's records, each also carrying the page-level diagnostics.

    A lying charset, an ignored DOCTYPE or a page parsed with recovery concern every record
    of the page, and the store keeps records, not pages: without this the only trace of
    why a record reads as mojibake would be lost with the page.
    """
    if not response.diagnostics:
        return response.records
    return [replace(record, diagnostics=record.diagnostics + tuple(
                replace(d, identifier=record.header.identifier) for d in response.diagnostics))
            for record in response.records]


def _usable_date(value: str | None) -> str | None:
    """A server date fit to be the next ``from``: one that parses and fits its column.

    Junk (``yesterday``, a date with a comment after it) would otherwise become the high
    water mark, silently turning every later run into a full one, or, when longer than the
    column, make PostgreSQL refuse the page on every rerun.
    """
    if not value or len(value.strip()) > DATE_COLUMN or parse_oai_datetime(value) is None:
        return None
    return value.strip()


def _max_datestamp(records: Sequence[Any]) -> str | None:
    stamps = [stamp for r in records if (stamp := _usable_date(r.header.datestamp))]
    return max(stamps) if stamps else None
