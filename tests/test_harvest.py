"""Harvesting over real HTTP from test providers into SQLite and PostgreSQL stores."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from oai_fixtures import (delay, empty_pages, error, expire_tokens, gzip_lie, inject, make_records,
                          repeat_token, reset, status, truncate, wrong_charset)
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harvester.config import HarvestConfig, Partner, SourceConfig
from harvester.harvest import Harvester, HarvestResult, incremental_from
from harvester.provider import ProviderRecord
from harvester.store.models import Checkpoint, HarvestRun, RawRecord

UTC = timezone.utc


def source_for(server: Any, **kw: Any) -> SourceConfig:
    base = SourceConfig(name=kw.pop("name", "test-src"), url=server.base_url,
                        partner=Partner(name="Test partner", country="VN"),
                        retries=kw.pop("retries", 4), max_backoff_s=kw.pop("max_backoff_s", 0.05),
                        timeout_s=kw.pop("timeout_s", 5.0))
    return replace(base, **kw)


def run(store: Any, src: SourceConfig, waits: list[float] | None = None, **kw: Any) -> HarvestResult:
    rec = waits if waits is not None else []
    harvester = Harvester(store, settings=HarvestConfig(max_empty_pages=kw.pop("max_empty_pages", 20)),
                          sleep=rec.append)
    try:
        return harvester.harvest(src, **kw)
    finally:
        harvester.pools.close()


def stored(store: Any, source: str = "test-src", deleted: bool | None = None) -> dict[str, RawRecord]:
    with Session(store) as s:
        stmt = select(RawRecord).where(RawRecord.source == source)
        if deleted is not None:
            stmt = stmt.where(RawRecord.deleted.is_(deleted))
        return {r.identifier: r for r in s.scalars(stmt)}


def live_ids(records: list[ProviderRecord]) -> set[str]:
    return {r.identifier for r in records if not r.deleted}


def forget(repository: Any, record: ProviderRecord) -> None:
    """Drop a record without a tombstone, as repositories with deletedRecord=no do."""
    with repository._lock:  # noqa: SLF001 - test-only reach into the in-memory repository
        repository._remove_key(record.key)  # noqa: SLF001
        del repository._by_id[record.identifier]  # noqa: SLF001


def list_requests(server: Any) -> list[dict[str, str]]:
    return [r.params for r in server.requests if r.params.get("verb") == "ListRecords"]


def test_full_then_incremental_is_exact(store: Any, oai_server: Any) -> None:
    records = make_records(250, deleted_every=10)
    server = oai_server(records, page_size=100)
    src = source_for(server)
    first = run(store, src)
    assert first.status == "ok", first.error
    assert first.mode == "full" and first.from_ is None
    assert first.pages == 3 and first.records == 250
    assert (first.new, first.deleted, first.updated, first.failed) == (225, 25, 0, 0)
    got = stored(store)
    assert set(got) == {r.identifier for r in records}
    assert {i for i, r in got.items() if not r.deleted} == live_ids(records)
    one = got[records[0].identifier]
    assert one.xml.startswith("<record") and 'xmlns="http://www.openarchives.org/OAI/2.0/"' in one.xml
    assert json.loads(one.sets) == list(records[0].sets)
    with Session(store) as s:
        cp = s.get(Checkpoint, ("test-src", "", "oai_dc"))
        assert cp is not None and not cp.in_progress and cp.token is None
        high_water = cp.high_water
    assert high_water and high_water.endswith("Z")

    # nothing changed: an incremental run asks from the server's own responseDate less 1s
    second = run(store, src)
    assert second.status == "ok" and second.mode == "incremental"
    assert second.from_ == incremental_from(high_water, "YYYY-MM-DDThh:mm:ssZ")
    assert list_requests(server)[-1]["from"] == second.from_
    assert second.new == 0 and second.updated == 0

    # one record changes, one is deleted, one is added: exactly those arrive
    now = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    changed = replace(records[1], datestamp=now,
                      metadata={"oai_dc": records[1].metadata["oai_dc"].replace("</oai_dc:dc>",
                                "<dc:subject>updated</dc:subject></oai_dc:dc>")})
    server.repository.put(changed)
    server.repository.delete(records[2].identifier, now)
    added = replace(make_records(1)[0], identifier="oai:ichlinks.test:new-1", datestamp=now)
    server.repository.put(added)
    third = run(store, src)
    assert third.status == "ok"
    assert (third.new, third.updated, third.deleted) == (1, 1, 1)
    got = stored(store)
    assert "updated" in got[records[1].identifier].xml
    assert got[records[2].identifier].deleted
    assert len(got) == 251


def test_unchanged_full_reharvest_rewrites_nothing(store: Any, oai_server: Any) -> None:
    server = oai_server(make_records(120), page_size=50)
    src = source_for(server)
    assert run(store, src).new == 120
    before = {i: r.updated_at for i, r in stored(store).items()}
    again = run(store, src, full=True)
    assert again.status == "ok" and again.mode == "full"
    assert again.unchanged == 120 and again.new == again.updated == 0
    after = {i: r.updated_at for i, r in stored(store).items()}
    assert before == after


def test_sets_are_harvested_each_without_duplicates(store: Any, oai_server: Any) -> None:
    records = make_records(60)
    records = [replace(r, sets=r.sets + ("ich:all",)) for r in records]
    server = oai_server(records, page_size=25)
    src = source_for(server, sets=("ich:performing-arts", "ich:all"))
    result = run(store, src)
    assert result.status == "ok", result.error
    assert result.records == 20 + 60
    assert len(stored(store)) == 60
    sets_asked = {r.get("set") for r in list_requests(server) if "set" in r}
    assert sets_asked == {"ich:performing-arts", "ich:all"}
    with Session(store) as s:
        assert s.scalar(select(func.count()).select_from(Checkpoint)) == 2


def test_day_granularity_from_is_a_day_earlier(store: Any, oai_server: Any) -> None:
    server = oai_server(make_records(10), granularity="YYYY-MM-DD")
    src = source_for(server)
    assert run(store, src).status == "ok"
    second = run(store, src)
    assert second.status == "ok"
    today = datetime.now(UTC).date()
    assert second.from_ in ((today - timedelta(days=1)).isoformat(), (today - timedelta(days=2)).isoformat())
    assert list_requests(server)[-1]["from"] == second.from_


@pytest.mark.parametrize("make_fault", [
    lambda: status(503, retry_after="2", verb="ListRecords", times=2),
    lambda: status(429, retry_after="1", verb="ListRecords", times=1),
    lambda: status(500, verb="ListRecords", times=3),
    lambda: reset(verb="ListRecords", times=2),
    lambda: truncate(300, verb="ListRecords", times=2),
    lambda: delay(1.5, verb="ListRecords", times=1),
], ids=["503-retry-after", "429", "500-burst", "reset", "truncated", "slow"])
def test_transient_faults_are_retried(store: Any, oai_server: Any, make_fault: Any) -> None:
    records = make_records(150)
    server = oai_server(records, page_size=50, faults=[make_fault()])
    waits: list[float] = []
    result = run(store, source_for(server, timeout_s=1.0, max_backoff_s=0.2), waits)
    assert result.status == "ok", result.error
    assert set(stored(store)) == {r.identifier for r in records}
    assert server.faults_applied(), "the fault never happened"
    assert waits, "no retry wait recorded"
    assert all(w <= 0.2 for w in waits)


def test_retry_after_is_honoured_up_to_the_cap(store: Any, oai_server: Any) -> None:
    server = oai_server(make_records(10), faults=[status(503, retry_after="3", verb="ListRecords", times=1)])
    waits: list[float] = []
    assert run(store, source_for(server, max_backoff_s=30.0), waits).status == "ok"
    assert waits == [3.0]


def test_exhausted_retries_end_partial_and_resume_from_checkpoint(store: Any, oai_server: Any) -> None:
    records = make_records(200)
    server = oai_server(records, page_size=50,
                        faults=[status(503, verb="ListRecords", token=True, times=10)])
    src = source_for(server, retries=2)
    first = run(store, src)
    assert first.status == "partial" and "503" in (first.error or "")
    assert first.pages == 1 and len(stored(store)) == 50
    with Session(store) as s:
        cp = s.get(Checkpoint, ("test-src", "", "oai_dc"))
        assert cp is not None and cp.in_progress and cp.token
        kept_token = cp.token
        run_row = s.scalars(select(HarvestRun).order_by(HarvestRun.id.desc())).first()
        assert run_row is not None and run_row.status == "partial"
    server.faults.clear()
    second = run(store, src)
    assert second.status == "ok", second.error
    first_list = list_requests(server)[-4]
    assert first_list.get("resumptionToken") == kept_token
    assert set(stored(store)) == {r.identifier for r in records}
    assert second.records == 150


def test_repeating_token_fails_cleanly(store: Any, oai_server: Any) -> None:
    server = oai_server(make_records(100), page_size=20, faults=[repeat_token(times=50)])
    result = run(store, source_for(server))
    assert result.status == "failed"
    assert "already used" in (result.error or "")
    assert len(list_requests(server)) < 10


def test_run_of_empty_pages_fails_cleanly(store: Any, oai_server: Any) -> None:
    server = oai_server(make_records(30), page_size=10, faults=[empty_pages(50)])
    result = run(store, source_for(server), max_empty_pages=5)
    assert result.status == "failed"
    assert "without records" in (result.error or "")
    assert len(list_requests(server)) <= 8


def test_expired_token_restarts_the_window(store: Any, oai_server: Any) -> None:
    records = make_records(90)
    server = oai_server(records, page_size=30, faults=[expire_tokens(times=1)])
    result = run(store, source_for(server))
    assert result.status == "ok", result.error
    assert set(stored(store)) == {r.identifier for r in records}
    restarts = [r for r in list_requests(server) if "resumptionToken" not in r]
    assert len(restarts) == 2


@pytest.mark.parametrize("code, words", [
    ("badArgument", "badArgument"), ("cannotDisseminateFormat", "cannotDisseminateFormat"),
    ("noSetHierarchy", "noSetHierarchy"), ("badVerb", "badVerb"),
])
def test_protocol_errors_name_source_url_and_request(store: Any, oai_server: Any, code: str,
                                                     words: str) -> None:
    server = oai_server(make_records(5), faults=[error(code, verb="ListRecords", times=5)])
    result = run(store, source_for(server))
    assert result.status == "failed"
    assert words in (result.error or "")
    assert "source=test-src" in (result.error or "")
    assert server.base_url.split("/oai")[0] in (result.error or "")
    assert "verb=ListRecords" in (result.error or "")


def test_no_records_match_is_an_empty_success(store: Any, oai_server: Any) -> None:
    server = oai_server(make_records(5))
    src = source_for(server, sets=("ich:performing-arts",))  # listed, so empty is not vanished
    server.faults.append(error("noRecordsMatch", verb="ListRecords", times=1))
    result = run(store, src)
    assert result.status == "ok" and result.records == 0


@pytest.mark.parametrize("policy", ["no", "transient"])
def test_full_harvest_reconciles_records_gone_from_the_list(store: Any, oai_server: Any,
                                                            policy: str) -> None:
    records = make_records(50)
    server = oai_server(records, deleted_record=policy)
    src = source_for(server)
    assert run(store, src).new == 50
    for r in records[:5]:  # 10 %: under the 20 % guard
        forget(server.repository, r)
    result = run(store, src, full=True)
    assert result.status == "ok", result.error
    assert result.deleted == 5 and result.refused_deletes == 0
    assert set(stored(store, deleted=True)) == {r.identifier for r in records[:5]}


def test_mass_delete_is_refused_unless_allowed(store: Any, oai_server: Any) -> None:
    records = make_records(40)
    server = oai_server(records, deleted_record="no")
    src = source_for(server)
    assert run(store, src).status == "ok"
    for r in records[:30]:
        forget(server.repository, r)
    refused = run(store, src, full=True)
    assert refused.status == "partial"
    assert refused.refused_deletes == 30 and "allow-mass-delete" in (refused.error or "")
    assert len(stored(store, deleted=False)) == 40
    allowed = run(store, src, full=True, allow_mass_delete=True)
    assert allowed.status == "ok" and allowed.deleted == 30
    assert len(stored(store, deleted=False)) == 10


def test_persistent_policy_never_reconciles(store: Any, oai_server: Any) -> None:
    records = make_records(20)
    server = oai_server(records, deleted_record="persistent")
    src = source_for(server)
    run(store, src)
    forget(server.repository, records[0])
    result = run(store, src, full=True)
    assert result.status == "ok" and result.deleted == 0
    assert len(stored(store, deleted=False)) == 20


def test_illegal_characters_become_diagnostics_not_failures(store: Any, oai_server: Any) -> None:
    def add_controls(body: bytes) -> bytes:
        return body.replace(b"<dc:identifier>https:", b"<dc:identifier>\x01\x0bhttps:", 3)

    records = make_records(10)
    server = oai_server(records, faults=[inject(add_controls, verb="ListRecords", times=1)])
    result = run(store, source_for(server))
    assert result.status == "ok" and result.failed == 0 and result.new == 10
    flagged = [r for r in stored(store).values() if r.diagnostics]
    assert len(flagged) == 3
    assert all("illegal" in r.diagnostics for r in flagged)
    assert not any("\x01" in r.xml for r in stored(store).values())


def test_gzip_lie_and_wrong_charset_are_survived(store: Any, oai_server: Any) -> None:
    records = make_records(20, languages=("vi", "ko"))
    server = oai_server(records, faults=[gzip_lie(verb="ListRecords", times=1),
                                         wrong_charset("iso-8859-1", verb="ListRecords", times=1)])
    result = run(store, source_for(server))
    assert result.status == "ok", result.error
    titles = "".join(r.xml for r in stored(store).values())
    assert "Nhã nhạc cung đình Huế" in titles and "판소리" in titles


def test_a_bad_record_does_not_spoil_its_page(store: Any, oai_server: Any) -> None:
    def break_one(body: bytes) -> bytes:
        return body.replace(b"</dc:title>", b"</dc:titel>", 1)

    records = make_records(10)
    server = oai_server(records, faults=[inject(break_one, verb="ListRecords", times=1)])
    result = run(store, source_for(server))
    assert result.status == "ok"
    got = stored(store)
    assert len(got) == 10
    assert result.failed + result.new == 10
    assert sum(1 for r in got.values() if r.error) == result.failed


def test_prefetch_keeps_order_and_surfaces_errors_in_sequence() -> None:
    from harvester.harvest import prefetched

    def pages() -> Any:
        yield from range(5)
        raise RuntimeError("page 6 failed")

    got: list[int] = []
    with pytest.raises(RuntimeError, match="page 6"):
        for item in prefetched(pages()):
            got.append(item)
    assert got == [0, 1, 2, 3, 4]


def test_prefetch_and_plain_harvests_store_the_same(store: Any, oai_server: Any) -> None:
    records = make_records(130, deleted_every=9)
    server = oai_server(records, page_size=20)
    plain = Harvester(store, sleep=lambda s: None, prefetch=False)
    first = plain.harvest(source_for(server, name="plain"))
    ahead = Harvester(store, sleep=lambda s: None, prefetch=True)
    second = ahead.harvest(source_for(server, name="ahead"))
    plain.pools.close()
    ahead.pools.close()
    assert first.status == second.status == "ok"
    a = {i: (r.sha256, r.deleted) for i, r in stored(store, "plain").items()}
    b = {i: (r.sha256, r.deleted) for i, r in stored(store, "ahead").items()}
    assert a == b and len(a) == 130
