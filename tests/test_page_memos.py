"""Pages the store already holds are recognised by fingerprint, never at the cost of a record.

Every test harvests over HTTP from the test provider, on SQLite and PostgreSQL, and checks
the store against the provider's records (``assert_exact``), not only the counts: a memo
trusted one moment too long would leave an old version of a record in the store, and
nothing but the store's contents would show it.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any

from oai_fixtures import Route, inject, make_records, make_repository
from reliability_fixtures import (SOURCE, assert_exact, changed, checkpoint, dc_record, page_of,
                                  source_for, stored)
from sqlalchemy import Engine, delete, func, select, update
from sqlalchemy.orm import Session

from harvester.config import HarvestConfig
from harvester.harvest import Harvester, HarvestResult
from harvester.store import page_memos
from harvester.store.models import IchRecord, PageMemo, RawRecord, SourceState

PAGE = 40


def _harvest(engine: Engine, src: Any, *, recognise: bool = True, **kw: Any) -> HarvestResult:
    harvester = Harvester(engine, settings=HarvestConfig(recognise_unchanged_pages=recognise),
                          sleep=lambda _s: None)
    try:
        result = harvester.harvest(src, **kw)
    finally:
        harvester.pools.close()
    assert result.status == "ok", result.error
    return result


def _counts(result: HarvestResult) -> tuple[int, ...]:
    return (result.pages, result.records, result.new, result.updated, result.unchanged,
            result.deleted, result.failed)


def _repository(oai_server: Any, n: int, **kw: Any) -> tuple[list[Any], Any, Any]:
    """``n`` records served ``PAGE`` a page, and a source on them."""
    records = make_records(n, **kw)
    server = oai_server(records, page_size=PAGE)
    return records, server, source_for(server)


def _after_last_harvest() -> datetime:
    """A datestamp after the last harvest's responseDate: the next incremental window lists it."""
    return datetime.now(timezone.utc).replace(microsecond=0) + timedelta(minutes=5)


def _forgetful_source(oai_server: Any, n: int) -> tuple[list[Any], Any, Any]:
    """A repository with deletedRecord "no": a full harvest tombstones what it stops listing."""
    records = make_records(n)
    server = oai_server(repository=make_repository(records, deleted_record="no"), page_size=PAGE)
    return records, server, source_for(server, max_delete_fraction=0.05)


def _rewritten(session: Session, raw_ids: list[int]) -> None:
    """What a writer that rewrites rows does: the next generation, stamped on those rows."""
    generation = page_memos.next_generation(session, SOURCE)
    session.execute(update(RawRecord).where(RawRecord.id.in_(raw_ids))
                    .values(rewritten_generation=generation))


def _memos(engine: Engine) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(PageMemo)) or 0


def test_an_unchanged_full_harvest_recognises_every_page_and_counts_as_parsing_would(
        store: Engine, oai_server: Any) -> None:
    records, server, src = _repository(oai_server, 130, deleted_every=9)
    first = _harvest(store, src, full=True)
    assert first.recognised_pages == 0 and first.new + first.deleted == 130
    before = stored(store)
    parsed = _harvest(store, src, full=True, recognise=False)
    recognised = _harvest(store, src, full=True)
    assert recognised.recognised_pages == recognised.pages == 4
    assert _counts(recognised) == _counts(parsed)
    assert recognised.unchanged == 130 and recognised.new == recognised.updated == 0
    assert stored(store) == before
    assert_exact(store, records)
    assert _memos(store) == 4, "one memo per page, the stale and unused ones pruned"


def test_a_changed_record_is_stored_and_its_pages_parsed(store: Engine, oai_server: Any) -> None:
    records, server, src = _repository(oai_server, 100)
    _harvest(store, src, full=True)
    new = changed(records[95], records[95].datestamp, "changed in place")
    server.repository.put(new)
    records[95] = new
    result = _harvest(store, src, full=True)
    assert result.updated == 1 and result.unchanged == 99
    assert result.recognised_pages == 2 and result.pages == 3, "the last page holds record 95"
    assert_exact(store, records)


def test_a_page_that_comes_back_after_its_record_was_rewritten_is_parsed_again(
        store: Engine, oai_server: Any) -> None:
    """The generation: a memo must not outlive a rewrite of one of its rows.

    The page holding record 5 is remembered, record 5 is changed (an incremental harvest
    rewrites its row), then the repository restores the old text, so the old page comes
    back byte for byte.  Trusting its memo would keep the changed text in the store.
    """
    records, server, src = _repository(oai_server, 100)
    _harvest(store, src, full=True)
    original = records[5]
    server.repository.put(changed(original, _after_last_harvest(), "for a while"))
    incremental = _harvest(store, src)
    assert incremental.updated == 1
    server.repository.put(original)
    restored = _harvest(store, src, full=True)
    assert restored.updated == 1
    assert_exact(store, records)


def test_memos_are_retired_by_a_rewrite_only(store: Engine, oai_server: Any) -> None:
    records, server, src = _repository(oai_server, 80)
    _harvest(store, src, full=True)
    server.repository.put(make_records(81)[80])  # a new record: no stored row changes
    grown = _harvest(store, src, full=True)
    assert grown.new == 1 and grown.recognised_pages == 2
    server.repository.put(changed(records[0], records[0].datestamp, "edited"))
    edited = _harvest(store, src, full=True)
    assert edited.updated == 1
    assert edited.recognised_pages == 2, "only the page of the edited record is parsed"
    assert_exact(store, [changed(records[0], records[0].datestamp, "edited"), *records[1:],
                         make_records(81)[80]])


def test_recognised_pages_are_stamped_seen_so_reconciliation_tombstones_only_the_gone(
        store: Engine, oai_server: Any) -> None:
    records, server, src = _forgetful_source(oai_server, 150)
    _harvest(store, src, full=True)
    again = _harvest(store, src, full=True)
    assert again.recognised_pages == again.pages
    gone = records[-3]
    server.repository.delete(gone.identifier, gone.datestamp)
    reconciled = _harvest(store, src, full=True)
    assert reconciled.recognised_pages >= 3, "pages before the gap are recognised"
    assert reconciled.deleted == 1 and reconciled.refused_deletes == 0
    rows = stored(store)
    assert rows[gone.identifier].deleted
    assert sum(row.deleted for row in rows.values()) == 1
    server.repository.put(gone)
    back = _harvest(store, src, full=True)
    assert back.updated == 1
    assert_exact(store, records)


def test_a_tombstone_retires_the_memos_even_when_a_run_did_not_look_pages_up(
        store: Engine, oai_server: Any) -> None:
    records, server, src = _forgetful_source(oai_server, 120)
    _harvest(store, src, full=True)
    gone = records[10]
    server.repository.delete(gone.identifier, gone.datestamp)
    reconciled = _harvest(store, src, full=True, recognise=False)
    assert reconciled.deleted == 1 and stored(store)[gone.identifier].deleted
    server.repository.put(gone)  # the first page is again the page first remembered
    back = _harvest(store, src, full=True)
    assert back.updated == 1 and not stored(store)[gone.identifier].deleted
    assert_exact(store, records)


def test_a_memo_out_of_date_at_commit_time_means_the_page_is_parsed(
        store: Engine, oai_server: Any) -> None:
    """The look-up runs ahead in the prefetch thread; the commit checks it again."""
    records, server, src = _repository(oai_server, 60)
    _harvest(store, src, full=True)
    harvester = Harvester(store, sleep=lambda _s: None)
    try:
        client = harvester.client_for(src)
        recogniser = harvester._recogniser(src)
        page = client.list_page("ListRecords", metadata_prefix="oai_dc", defer_records=True,
                                recognise=recogniser)
        recogniser.close()
        assert page.recognised is not None and not page.response.records
        with harvester.sessions.begin() as s:
            # What an earlier page's rewrite of one of this page's records does.
            _rewritten(s, page.recognised.raw_ids[-1:])
        counts = harvester._commit_page(src, None, page, [], page.token, 1, None)
    finally:
        harvester.pools.close()
    assert not counts.recognised
    assert counts.unchanged == PAGE and counts.records == PAGE
    assert_exact(store, records)


def test_a_server_without_a_usable_response_date_dates_the_window_from_the_memo(
        store: Engine, oai_server: Any) -> None:
    def junk_date(body: bytes) -> bytes:
        start = body.find(b"<responseDate>") + len(b"<responseDate>")
        return body[:start] + b"yesterday" + body[body.find(b"</responseDate>"):]

    records = make_records(90)
    server = oai_server(records, page_size=PAGE, faults=[inject(junk_date, times=None)])
    src = source_for(server)
    _harvest(store, src, full=True)
    first = checkpoint(store)
    again = _harvest(store, src, full=True)
    assert again.recognised_pages == again.pages
    second = checkpoint(store)
    assert first is not None and second is not None
    assert second.high_water == first.high_water == records[PAGE - 1].datestamp.strftime(
        "%Y-%m-%dT%H:%M:%SZ")


def test_a_token_among_the_records_is_never_cut_away(store: Engine,
                                                     canned_server: Any) -> None:
    """A server that writes its token before the last record: the page is never recognised,
    since the envelope cut around the records would lose the token and end the list."""
    first = page_of([dc_record(f"oai:x:{i}", f"t{i}") for i in range(3)]).replace(
        "</record>", "</record><resumptionToken>p2</resumptionToken>", 1)
    last = page_of([dc_record(f"oai:x:{i}", f"t{i}") for i in range(3, 5)])
    server = canned_server([Route("phpoaipmh__GoodResponseIdentify.xml", verb="Identify"),
                            Route(first.encode(), verb="ListRecords", token=None),
                            Route(last.encode(), verb="ListRecords", token="p2")])
    src = source_for(server)
    for _ in range(2):
        result = _harvest(store, src, full=True)
        assert (result.pages, result.records) == (2, 5)
    assert result.recognised_pages == 1, "only the last page, whose token is not among records"
    assert len(stored(store)) == 5


def test_switched_off_nothing_is_recognised(store: Engine, oai_server: Any) -> None:
    records, server, src = _repository(oai_server, 50)
    _harvest(store, src, full=True)
    result = _harvest(store, src, full=True, recognise=False)
    assert result.recognised_pages == 0 and result.unchanged == 50


def _generations(engine: Engine) -> tuple[set[int], int]:
    """The generations the memos carry, and the source's current one."""
    with Session(engine) as s:
        memos = set(s.scalars(select(PageMemo.generation).where(PageMemo.source == SOURCE)))
        current = s.scalar(select(SourceState.raw_generation).where(SourceState.source == SOURCE))
    return memos, current or 0


def test_scattered_changes_leave_every_other_page_recognised(store: Engine,
                                                             oai_server: Any) -> None:
    """Only the pages holding a changed record are parsed; the others keep their memos,
    which are renewed to the new generation, so the next harvest confirms them at once."""
    records, server, src = _repository(oai_server, 200)
    _harvest(store, src, full=True)
    for i in (3, 130):  # pages 1 and 4 of 5, changed in place (same datestamp)
        records[i] = changed(records[i], records[i].datestamp, "corrected")
        server.repository.put(records[i])
    result = _harvest(store, src, full=True)
    assert (result.updated, result.unchanged, result.pages) == (2, 198, 5)
    assert result.recognised_pages == 3, "pages 2, 3 and 5 hold no changed record"
    assert_exact(store, records)
    again = _harvest(store, src, full=True)
    assert again.recognised_pages == 5 and again.unchanged == 200
    memos, current = _generations(store)
    assert current >= 1 and memos == {current}, "older memos renewed when confirmed"
    assert_exact(store, records)


def test_memos_of_a_full_harvest_outlive_incremental_rewrites_of_other_rows(
        store: Engine, oai_server: Any) -> None:
    """Nightly incremental harvests between two full ones rewrite a few rows; the next full
    harvest still recognises the pages that do not hold them."""
    records, server, src = _repository(oai_server, 120)
    _harvest(store, src, full=True)
    records[-1] = changed(records[-1], _after_last_harvest(), "revised")  # stays last: no shift
    server.repository.put(records[-1])
    incremental = _harvest(store, src)
    assert incremental.updated == 1
    full = _harvest(store, src, full=True)
    assert full.pages == 3 and full.recognised_pages == 2
    assert full.updated == 0 and full.unchanged == 120
    assert_exact(store, records)


def test_a_window_from_a_date_leaves_no_memo(store: Engine, oai_server: Any) -> None:
    records, server, src = _repository(oai_server, 80)
    _harvest(store, src, full=True)
    assert _memos(store) == 2
    server.repository.put(changed(records[0], _after_last_harvest(), "revised"))
    incremental = _harvest(store, src)
    assert incremental.updated == 1 and incremental.pages == 1
    assert _memos(store) == 2, "the incremental page is listed once and never comes back"


def test_a_memo_whose_row_is_gone_is_not_trusted(store: Engine, oai_server: Any) -> None:
    """An older memo holds only if every one of its rows is still there: a row removed by
    hand (nothing in ichLinks removes rows) cannot be counted as unchanged."""
    records, server, src = _repository(oai_server, 120)
    _harvest(store, src, full=True)
    rows = stored(store)
    gone = rows[records[7].identifier].id
    with Session(store) as s, s.begin():
        # A row of page 3 rewritten: every memo is now older than the source.
        _rewritten(s, [rows[records[100].identifier].id])
        s.execute(delete(IchRecord).where(IchRecord.raw_id == gone))
        s.execute(delete(RawRecord).where(RawRecord.id == gone))
    result = _harvest(store, src, full=True)
    assert result.new == 1 and result.unchanged == 119
    assert result.recognised_pages == 1, "page 1 lost a row, page 3 has a rewritten one"
    assert_exact(store, records)


def test_migration_stamps_existing_rows_with_their_sources_generation(store_url: str) -> None:
    """Rows written before row stamps existed get the source's generation: memos of that
    generation stay valid, older memos fail the row check as they failed before."""
    from alembic import command
    from sqlalchemy import text

    from harvester.store.engine import _alembic_config, make_engine, migrate

    engine = make_engine(store_url)
    command.upgrade(_alembic_config(engine), "0005")
    now = datetime.now(timezone.utc)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO source_state (source, full_epoch, full_in_progress, "
                          "unmarked_epoch, raw_generation) VALUES ('kept', 1, :f, 0, 3)"),
                     {"f": False})
        for n, source in enumerate(("kept", "kept", "stateless"), start=1):
            conn.execute(text("INSERT INTO raw_records (id, source, metadata_prefix, identifier, "
                              "sets, deleted, sha256, xml, first_seen_at, updated_at, seen_epoch) "
                              "VALUES (:id, :s, 'oai_dc', :i, '[]', :f, 'x', '<r/>', :t, :t, 0)"),
                         {"id": n, "s": source, "i": f"oai:x:{n}", "f": False, "t": now})
    migrate(engine)
    with Session(engine) as s:
        got = {row[0]: row[1] for row in s.execute(select(RawRecord.id, RawRecord.rewritten_generation))}
    engine.dispose()
    assert got == {1: 3, 2: 3, 3: 0}
