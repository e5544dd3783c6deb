"""The fault matrix: one misbehaving provider per test, the exact outcome asserted.

Every test harvests over real HTTP from the fault-injecting provider into SQLite and
PostgreSQL, and checks the run's status, its counts and the stored records exactly
(``assert_exact``: the provider's records, no more, no fewer, none failed).  Retry waits
are recorded instead of slept, so the waits themselves are asserted, not the time taken.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

import pytest
from oai_fixtures import (TEST_SECRET, Fault, FaultyProviderServer, When, delay, empty_pages,
                          error, expire_tokens, gzip_lie, http_date, inject, make_records,
                          make_repository, repeat_token, reset, status, truncate)
from reliability_fixtures import (SOURCE, ProviderClock, as_day, as_seconds, assert_exact, changed,
                                  checkpoint, harvest, list_requests, rewrite_datestamps,
                                  source_for, stored)

from harvester.harvest import MAX_TOKEN_RESTARTS, incremental_from
from harvester.provider import ProviderRequest, ProviderResponse, SetInfo

DAY = "YYYY-MM-DD"
SECONDS = "YYYY-MM-DDThh:mm:ssZ"


# -- HTTP-level faults: retried, waits as the server asked, result exact ---------------------

def test_503_retry_after_seconds_is_obeyed_and_capped(store: Any, oai_server: Any) -> None:
    records = make_records(120)
    server = oai_server(records, page_size=40,
                        faults=[status(503, retry_after="7", verb="ListRecords", token=True, times=2),
                                status(503, retry_after="600", verb="ListRecords", token=True, times=1)])
    waits: list[float] = []
    result = harvest(store, source_for(server, max_backoff_s=30.0), waits)
    assert result.status == "ok", result.error
    assert server.faults_applied() == ["status(503)"] * 3
    assert waits == [7.0, 7.0, 30.0]  # 600 s capped by max_backoff_s
    assert (result.pages, result.records, result.new) == (3, 120, 120)
    assert_exact(store, records)


def test_503_retry_after_http_date_is_obeyed(store: Any, oai_server: Any) -> None:
    records = make_records(60)
    server = oai_server(records, page_size=30,
                        faults=[status(503, retry_after=http_date(20), verb="ListRecords", times=1),
                                status(503, retry_after=http_date(-3600), verb="ListRecords", times=1)])
    waits: list[float] = []
    result = harvest(store, source_for(server, max_backoff_s=60.0), waits)
    assert result.status == "ok", result.error
    assert len(waits) == 2
    assert 15.0 <= waits[0] <= 20.0  # an HTTP-date has whole seconds; the wait is what is left
    assert waits[1] == 0.0            # a date in the past: retry at once
    assert_exact(store, records)


@pytest.mark.parametrize("retry_after", [None, "2"], ids=["bare", "retry-after"])
def test_429_is_retried(store: Any, oai_server: Any, retry_after: str | None) -> None:
    records = make_records(50)
    server = oai_server(records, page_size=20,
                        faults=[status(429, retry_after=retry_after, verb="ListRecords", times=2)])
    waits: list[float] = []
    result = harvest(store, source_for(server), waits)
    assert result.status == "ok", result.error
    assert server.faults_applied() == ["status(429)"] * 2
    if retry_after is None:
        assert len(waits) == 2 and 0.25 <= waits[0] <= 0.5 and 0.5 <= waits[1] <= 1.0
    else:
        assert waits == [2.0, 2.0]
    assert_exact(store, records)


def test_burst_of_500_backs_off_exponentially(store: Any, oai_server: Any) -> None:
    records = make_records(90)
    server = oai_server(records, page_size=30,
                        faults=[status(500, verb="ListRecords", token=True, times=4)])
    waits: list[float] = []
    result = harvest(store, source_for(server, retries=4), waits)
    assert result.status == "ok", result.error
    assert len(waits) == 4
    for attempt, wait in enumerate(waits):  # base 0.5 s, doubled, jitter 50-100 %
        assert 0.5 * 2 ** attempt * 0.5 <= wait <= 0.5 * 2 ** attempt
    assert result.requests == 1 + 3 + 4  # Identify, three pages, four refused attempts
    assert_exact(store, records)


def test_burst_longer_than_the_retries_ends_partial_and_resumes_exactly(store: Any,
                                                                      oai_server: Any) -> None:
    records = make_records(90)
    server = oai_server(records, page_size=30,
                        faults=[status(500, verb="ListRecords", token=True, times=3)])
    src = source_for(server, retries=2)
    first = harvest(store, src)
    assert first.status == "partial" and "HTTP 500" in (first.error or "")
    assert (first.pages, first.new) == (1, 30)
    cp = checkpoint(store)
    assert cp is not None and cp.in_progress and cp.token
    second = harvest(store, src)
    assert second.status == "ok", second.error
    assert list_requests(server)[-2]["resumptionToken"] == cp.token  # resumed, not restarted
    assert (second.records, second.new, second.unchanged) == (60, 60, 0)
    assert_exact(store, records)


def test_connection_reset_is_retried(store: Any, oai_server: Any) -> None:
    records = make_records(90, deleted_every=9)
    server = oai_server(records, page_size=30,
                        faults=[reset(verb="ListRecords", token=True, times=2), reset(verb="Identify")])
    waits: list[float] = []
    result = harvest(store, source_for(server), waits)
    assert result.status == "ok", result.error
    assert server.faults_applied() == ["reset()"] * 3
    assert len(waits) == 3
    assert (result.new, result.deleted) == (80, 10)
    assert_exact(store, records)


def test_read_timeout_is_retried(store: Any, oai_server: Any) -> None:
    records = make_records(60)
    server = oai_server(records, page_size=30,
                        faults=[delay(1.5, verb="ListRecords", token=True, times=1)])
    waits: list[float] = []
    result = harvest(store, source_for(server, timeout_s=0.4), waits)
    assert result.status == "ok", result.error
    assert server.faults_applied() == ["delay(1.5)"]
    assert len(waits) == 1
    assert_exact(store, records)


def test_read_timeouts_past_the_retries_name_the_timeout(store: Any, oai_server: Any) -> None:
    server = oai_server(make_records(10), faults=[delay(1.0, verb="ListRecords", times=3)])
    result = harvest(store, source_for(server, timeout_s=0.3, retries=2))
    assert result.status == "partial"
    assert "timed out" in (result.error or "") and "verb=ListRecords" in (result.error or "")
    assert stored(store) == {}


@pytest.mark.parametrize("cut", [0, 120, 2000])
def test_truncated_body_is_retried_never_taken_as_the_end(store: Any, oai_server: Any,
                                                          cut: int) -> None:
    records = make_records(90)
    server = oai_server(records, page_size=30, gzip=False,
                        faults=[truncate(cut, verb="ListRecords", token=True, times=2)])
    waits: list[float] = []
    result = harvest(store, source_for(server), waits)
    assert result.status == "ok", result.error
    assert server.faults_applied() == [f"truncate({cut})"] * 2 and len(waits) == 2
    assert (result.pages, result.new) == (3, 90)
    assert_exact(store, records)


def test_gzip_declared_but_not_sent(store: Any, oai_server: Any) -> None:
    records = make_records(60, languages=("kk", "mn"))
    server = oai_server(records, page_size=20, faults=[gzip_lie(times=None)])
    waits: list[float] = []
    result = harvest(store, source_for(server), waits)
    assert result.status == "ok", result.error
    assert len(server.faults_applied()) == 4 and waits == []  # Identify + 3 pages, no retry
    assert any("declared but the body is not compressed" in n for n in result.notes)
    assert_exact(store, records)


# -- token faults ------------------------------------------------------------------------------

def test_token_expiry_mid_list_restarts_the_window_exactly(store: Any, oai_server: Any) -> None:
    records = make_records(150)
    server = oai_server(records, page_size=30)
    src = source_for(server)
    assert harvest(store, src).new == 150
    now = datetime.now(records[0].datestamp.tzinfo).replace(microsecond=0) + timedelta(seconds=2)
    fresh = [changed(r, now, "revised") for r in records[::2]]  # 75 changes: 3 pages
    for r in fresh:
        server.repository.put(r)
    before = len(list_requests(server))
    tokens_so_far = sum(1 for r in list_requests(server) if "resumptionToken" in r)
    server.faults.append(expire_tokens(nth_token=tokens_so_far + 2, times=1))
    result = harvest(store, src)
    assert result.status == "ok", result.error
    asked = list_requests(server)[before:]
    # page 1, page 2, expired token, restart page 1, page 2, page 3
    assert ["resumptionToken" in r for r in asked] == [False, True, True, False, True, True]
    assert asked[0]["from"] == asked[3]["from"] == result.from_
    assert (result.records, result.updated, result.unchanged) == (60 + 75, 75, 60)
    final = [next((f for f in fresh if f.identifier == r.identifier), r) for r in records]
    assert_exact(store, final)


def test_tokens_that_always_expire_fail_after_bounded_restarts(store: Any, oai_server: Any) -> None:
    records = make_records(90)
    server = oai_server(records, page_size=30, faults=[expire_tokens()])
    result = harvest(store, source_for(server))
    assert result.status == "failed"
    assert "badResumptionToken" in (result.error or "")
    assert len(list_requests(server)) == 2 * (MAX_TOKEN_RESTARTS + 1)
    assert len(stored(store)) == 30  # the first page, stored once, never duplicated
    server.faults.clear()
    again = harvest(store, source_for(server))
    assert again.status == "ok", again.error
    assert_exact(store, records)


def test_token_loop_fails_cleanly_and_resumes_later(store: Any, oai_server: Any) -> None:
    records = make_records(100)
    server = oai_server(records, page_size=20, faults=[repeat_token(nth_token=2, times=1)])
    src = source_for(server)
    result = harvest(store, src)
    assert result.status == "failed"
    assert "already used" in (result.error or "") and "token=" in (result.error or "")
    assert len(list_requests(server)) == 3
    assert len(stored(store)) == 40
    again = harvest(store, src)  # the server recovered: the run resumes from the checkpoint
    assert again.status == "ok", again.error
    assert (again.records, again.new) == (60, 60)
    assert_exact(store, records)


def test_run_of_empty_pages_within_the_limit_is_followed(store: Any, oai_server: Any) -> None:
    records = make_records(40)
    server = oai_server(records, page_size=20, faults=[empty_pages(4)])
    result = harvest(store, source_for(server), max_empty_pages=5)
    assert result.status == "ok", result.error
    assert result.pages == 4 + 2 and result.records == 40
    assert_exact(store, records)


def test_endless_empty_pages_fail_cleanly(store: Any, oai_server: Any) -> None:
    server = oai_server(make_records(40), page_size=20, faults=[empty_pages(1000)])
    result = harvest(store, source_for(server), max_empty_pages=5)
    assert result.status == "failed" and "pages in a row without records" in (result.error or "")
    assert len(list_requests(server)) == 6
    assert stored(store) == {}


class OddTokenServer(FaultyProviderServer):
    """Hands out tokens made of characters that need URL-encoding, padded with whitespace
    in the XML; maps them back to the provider's real tokens when they return."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.issued: dict[str, str] = {}
        self.received: list[str] = []

    def respond(self, request: ProviderRequest) -> ProviderResponse:
        token = request.arg("resumptionToken")
        if token is not None:
            self.received.append(token)
            real = self.issued.get(token, "not-a-token-we-issued")
            request = replace(request, params={**request.params, "resumptionToken": [real]})
        response = super().respond(request)
        found = re.search(rb"(<resumptionToken[^>]*>)([^<]+)(</resumptionToken>)", response.body)
        if found is None:
            return response
        odd = f"a+b/c=d&e f?g#h%2B{len(self.issued)}/ü/판소리/Қ=="
        self.issued[odd] = found.group(2).decode()
        text = found.group(1) + b"\n   " + html.escape(odd, quote=False).encode() + b"\n" + found.group(3)
        return replace(response, body=response.body[:found.start()] + text + response.body[found.end():])


@pytest.fixture
def odd_token_server() -> Iterator[OddTokenServer]:
    records = make_records(75)
    server = OddTokenServer(make_repository(records), page_size=20, token_secret=TEST_SECRET).start()
    server.records = records  # type: ignore[attr-defined]
    yield server
    server.stop()


def test_tokens_needing_url_encoding_go_back_exactly(store: Any, odd_token_server: OddTokenServer) -> None:
    server = odd_token_server
    result = harvest(store, source_for(server))
    assert result.status == "ok", result.error
    assert result.pages == 4
    assert server.received == list(server.issued)  # each, exactly, in order; whitespace trimmed
    assert all("+" in t and "&" in t and " " in t and "판소리" in t for t in server.received)
    assert_exact(store, server.records)  # type: ignore[attr-defined]


# -- dates: granularity mismatches and a provider clock that is not ours ------------------------

@pytest.mark.parametrize("granularity, convert", [(DAY, as_seconds), (SECONDS, as_day)],
                         ids=["day-repo-seconds-stamps", "seconds-repo-day-stamps"])
def test_datestamps_in_the_wrong_granularity(store: Any, oai_server: Any, granularity: str,
                                             convert: Any) -> None:
    records = make_records(50, deleted_every=10)
    server = oai_server(records, page_size=20, granularity=granularity,
                        faults=[inject(rewrite_datestamps(convert), verb="ListRecords", times=None)])
    src = source_for(server)
    first = harvest(store, src)
    assert first.status == "ok", first.error
    assert (first.new, first.deleted, first.failed) == (45, 5, 0)
    assert_exact(store, records)
    sent = {r.identifier: r.datestamp for r in stored(store).values()}
    assert all(len(stamp or "") == (20 if convert is as_seconds else 10) for stamp in sent.values())

    # the next incremental harvest asks in the repository's own granularity and is accepted
    second = harvest(store, src)
    assert second.status == "ok", second.error
    assert list_requests(server)[-1]["from"] == second.from_
    assert len(second.from_ or "") == (10 if granularity == DAY else 20)


@pytest.mark.parametrize("offset_h", [-7, 5], ids=["provider-behind", "provider-ahead"])
def test_provider_clock_apart_from_ours_loses_no_change(store: Any, oai_server: Any,
                                                        offset_h: int) -> None:
    clock = ProviderClock(timedelta(hours=offset_h))
    records = make_records(45, deleted_every=15, start=clock.now - timedelta(days=30))
    server = oai_server(records, page_size=20, now=clock)
    src = source_for(server)
    first = harvest(store, src)
    assert first.status == "ok" and first.new == 42 and first.deleted == 3
    assert first.until == clock.now.strftime("%Y-%m-%dT%H:%M:%SZ")  # the provider's date, not ours

    current = {r.identifier: r for r in records}
    arrivals: dict[str, int] = {}
    previous = first
    for step in range(3):
        at = clock.advance(90)
        touched = [changed(current[records[step].identifier], at, f"edit {step}"),
                   replace(make_records(1)[0], identifier=f"oai:ichlinks.test:late-{step}", datestamp=at)]
        for r in touched:
            server.repository.put(r)
            current[r.identifier] = r
        victim = records[10 + step].identifier
        current[victim] = server.repository.delete(victim, at)
        clock.advance(30)
        result = harvest(store, src)
        assert result.status == "ok", result.error
        # from = the provider's responseDate at the previous window's start, less 1 s
        assert result.from_ == incremental_from(previous.until, SECONDS)
        assert list_requests(server)[-1]["from"] == result.from_
        assert (result.new, result.updated, result.deleted) == (1, 1, 1)
        previous = result
        for identifier in (touched[0].identifier, touched[1].identifier, victim):
            arrivals[identifier] = arrivals.get(identifier, 0) + 1
    quiet = harvest(store, src)
    assert quiet.status == "ok" and (quiet.new, quiet.updated, quiet.deleted) == (0, 0, 0)
    assert set(arrivals.values()) == {1} and len(arrivals) == 9
    assert_exact(store, current.values())


def test_change_made_while_the_harvest_pages_is_not_lost(store: Any, oai_server: Any) -> None:
    clock = ProviderClock(timedelta(hours=-3))
    records = make_records(90, start=clock.now - timedelta(days=10))
    server = oai_server(records, page_size=30, now=clock)
    src = source_for(server)
    edit: dict[str, Any] = {}

    def edit_then_answer(srv: FaultyProviderServer, exchange: Any) -> None:
        at = clock.advance(1)
        edit["record"] = changed(records[5], at, "edited mid-harvest")
        srv.repository.put(edit["record"])
        srv.serve_normally(exchange)

    server.faults.append(Fault("edit", edit_then_answer, When(verb="ListRecords", nth_token=1), 1))
    first = harvest(store, src)
    assert first.status == "ok", first.error
    # records[5] moved behind the cursor: this run may or may not see it, the next must
    clock.advance(60)
    second = harvest(store, src)
    assert second.status == "ok", second.error
    assert first.new == 90 and second.new == 0
    assert first.updated + second.updated == 1  # the edit arrived, once
    assert "edited mid-harvest" in stored(store)[records[5].identifier].xml
    assert_exact(store, [edit["record"] if r.identifier == records[5].identifier else r for r in records])


# -- the repository changes under the configuration: sets and formats vanish -------------------

def _sets_records(n: int = 100) -> list[Any]:
    # 10 % of the records are in ich:rituals, the rest split over two other sets
    out = []
    for r in make_records(n):
        index = int(r.identifier[-5:])
        spec = "ich:rituals" if index % 10 == 0 else ("ich:performing-arts" if index % 2 else "ich:craftsmanship")
        out.append(replace(r, sets=(spec,)))
    return out


def _drop_set(repository: Any, spec: str, renamed: str) -> None:
    """The partner renames a set: the records stay, the old spec is gone."""
    with repository._lock:  # noqa: SLF001 - test-only reach into the in-memory repository
        del repository._sets[spec]  # noqa: SLF001
    repository.add_set(SetInfo(renamed, "Renamed"))
    for r in list(repository):
        if spec in r.sets:
            repository.put(replace(r, sets=(renamed,)))


SETS = ("ich:rituals", "ich:performing-arts", "ich:craftsmanship")


@pytest.mark.parametrize("policy", ["no", "persistent"])
def test_vanished_set_answering_no_records_match(store: Any, oai_server: Any, policy: str) -> None:
    records = _sets_records()
    server = oai_server(records, page_size=25, deleted_record=policy)
    src = source_for(server, sets=SETS)
    assert harvest(store, src).new == 100
    _drop_set(server.repository, "ich:rituals", "ich:festive-rituals")
    result = harvest(store, src, full=True)
    assert result.status == "partial"
    assert "ich:rituals" in (result.error or "") and "no longer" in (result.error or "")
    asked_sets = [r.get("set") for r in list_requests(server)[-8:] if "set" in r]
    assert "ich:performing-arts" in asked_sets and "ich:craftsmanship" in asked_sets
    assert result.deleted == 0 and result.records == 90
    got = stored(store)
    assert len(got) == 100 and not any(r.deleted for r in got.values())  # nothing tombstoned


def test_vanished_set_answering_bad_argument(store: Any, oai_server: Any) -> None:
    records = _sets_records()
    server = oai_server(records, page_size=25, deleted_record="no")
    src = source_for(server, sets=SETS)
    assert harvest(store, src).new == 100
    server.faults.append(error("badArgument", "unknown set", times=None,
                               where=lambda r: r.arg("set") == "ich:rituals"))
    result = harvest(store, src, full=True)
    assert result.status == "partial"
    assert "ich:rituals" in (result.error or "") and "badArgument" in (result.error or "")
    assert result.records == 90 and result.deleted == 0
    got = stored(store)
    assert len(got) == 100 and not any(r.deleted for r in got.values())
    # the sets that finished stay finished: the full harvest waits on the missing one alone
    again = harvest(store, src, full=True)
    assert again.status == "partial" and again.records == 0
    assert [r.get("set") for r in list_requests(server)[-1:]] == ["ich:rituals"]


def test_every_set_refused_is_a_failed_run(store: Any, oai_server: Any) -> None:
    server = oai_server(_sets_records(), page_size=25,
                        faults=[error("badArgument", "unknown set", times=None,
                                      where=lambda r: r.arg("set") is not None)])
    result = harvest(store, source_for(server, sets=SETS))
    assert result.status == "failed" and result.records == 0
    assert all(f"set {spec}: OAI-PMH error badArgument" in (result.error or "") for spec in SETS)
    assert stored(store) == {}


def test_vanished_format_fails_clearly_and_leaves_the_store_untouched(store: Any,
                                                                     oai_server: Any) -> None:
    records = make_records(60)
    server = oai_server(records, page_size=25, deleted_record="no")
    src = source_for(server)
    assert harvest(store, src).status == "ok"
    before = stored(store)
    cp_before = checkpoint(store)
    server.repository._formats = ()  # noqa: SLF001 - the partner stopped offering oai_dc
    for full in (False, True):
        result = harvest(store, src, full=full)
        assert result.status == "failed"
        assert "cannotDisseminateFormat" in (result.error or "")
        assert "metadataPrefix=oai_dc" in (result.error or "")
        assert (result.records, result.deleted) == (0, 0)
        assert stored(store) == before
    cp = checkpoint(store)
    assert cp is not None and cp_before is not None and cp.high_water == cp_before.high_water


# -- dates no column was made for ---------------------------------------------------------------

JUNK_DATE = "2024-01-01T00:00:00Z (last modified by the cataloguing module, batch 7)"


def test_junk_datestamp_fails_nothing_but_its_own_field(store: Any, oai_server: Any) -> None:
    """A 70-character datestamp once made PostgreSQL refuse the whole page, on every rerun."""
    records = make_records(30)
    victim = records[4].identifier

    def junk(body: bytes) -> bytes:
        if f"<identifier>{victim}</identifier>".encode() not in body:
            return body
        start = body.index(f"<identifier>{victim}</identifier>".encode())
        a = body.index(b"<datestamp>", start) + len(b"<datestamp>")
        return body[:a] + JUNK_DATE.encode() + body[body.index(b"</datestamp>", a):]

    server = oai_server(records, page_size=10, faults=[inject(junk, verb="ListRecords", times=None)])
    src = source_for(server)
    result = harvest(store, src)
    assert result.status == "ok", result.error
    assert (result.new, result.failed) == (30, 0)
    assert_exact(store, records)
    row = stored(store)[victim]
    assert row.datestamp is None and JUNK_DATE in row.xml  # the raw text keeps what was sent
    assert "invalid-datestamp" in (row.diagnostics or "")
    assert harvest(store, src).status == "ok"


@pytest.mark.parametrize("response_date", [JUNK_DATE, "yesterday", ""])
def test_junk_response_date_falls_back_to_record_datestamps(store: Any, oai_server: Any,
                                                           response_date: str) -> None:
    def junk(body: bytes) -> bytes:
        return re.sub(rb"<responseDate>[^<]*</responseDate>",
                      f"<responseDate>{response_date}</responseDate>".encode(), body, count=1)

    records = make_records(30)
    server = oai_server(records, page_size=10, faults=[inject(junk, verb="ListRecords", times=None)])
    src = source_for(server)
    result = harvest(store, src)
    assert result.status == "ok", result.error
    assert_exact(store, records)
    cp = checkpoint(store)
    assert cp is not None and cp.high_water == "2024-01-01T09:00:00Z"  # the first page's newest record
    again = harvest(store, src)
    assert again.status == "ok" and again.from_ == "2024-01-01T08:59:59Z"
    assert again.new == 0 and again.unchanged == 30 - 9  # the overlap is re-read, not lost


def test_identify_values_longer_than_their_columns_do_not_stop_the_harvest(store: Any,
                                                                          oai_server: Any) -> None:
    def wordy(body: bytes) -> bytes:
        body = re.sub(rb"<earliestDatestamp>[^<]*</earliestDatestamp>",
                      b"<earliestDatestamp>1970-01-01T00:00:00.000000000+00:00 (epoch)</earliestDatestamp>", body)
        body = body.replace(b"<protocolVersion>2.0</protocolVersion>",
                            b"<protocolVersion>2.0 (DSpace 6.3 custom OAI build)</protocolVersion>")
        return body.replace(b"<deletedRecord>persistent</deletedRecord>",
                            b"<deletedRecord>persistent    \n\n            </deletedRecord>")

    records = make_records(20)
    server = oai_server(records, faults=[inject(wordy, verb="Identify", times=None)])
    result = harvest(store, source_for(server))
    assert result.status == "ok", result.error
    assert_exact(store, records)
    from sqlalchemy.orm import Session

    from harvester.store.models import Repository
    with Session(store) as s:
        repo = s.get(Repository, SOURCE)
        assert repo is not None and repo.deleted_record == "persistent"
        assert repo.protocol_version and repo.protocol_version.startswith("2.0")
        assert repo.earliest_datestamp and repo.earliest_datestamp.startswith("1970-01-01T00:00:00")
