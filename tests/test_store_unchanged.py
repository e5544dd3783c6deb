"""Unchanged records are recognised without parsing them, with the eager path's exact results.

A full re-harvest mostly meets records the store already holds byte for byte.  Those come out
of ``parse_response(defer_records=True)`` unparsed and ``store_page`` proves them unchanged
from their text alone.  Every scenario here runs twice — records parsed eagerly and records
deferred — and the two stores must end identical, with identical counts.
"""

from __future__ import annotations

import hashlib
import json
from datetime import datetime, timezone
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oai_fixtures import LANGUAGES, make_records, oai_dc_xml
from reliability_fixtures import source_for, stored
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from harvester.config import HarvestConfig
from harvester.crosswalking import _digest
from harvester.harvest import Harvester
from harvester.oai.response import DeferredRecord, RawRecord, parse_response
from harvester.store.models import RawRecord as RawRow
from harvester.store.models import SourceState
from harvester.store.raw import store_page

NOW = datetime(2026, 1, 1, tzinfo=timezone.utc)
SRC = "unchanged-src"


def _record(identifier: str, body: str = "", *, deleted: bool = False,
            datestamp: str = "2025-01-01T00:00:00Z") -> str:
    status = ' status="deleted"' if deleted else ""
    metadata = "" if deleted else f"<metadata>{body}</metadata>"
    return (f"<record><header{status}><identifier>{identifier}</identifier>"
            f"<datestamp>{datestamp}</datestamp><setSpec>ich</setSpec></header>{metadata}</record>")


def _page(*records: str) -> bytes:
    return ('<?xml version="1.0" encoding="UTF-8"?>\n'
            '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
            "<responseDate>2025-01-01T00:00:00Z</responseDate>"
            '<request verb="ListRecords" metadataPrefix="oai_dc">http://x.test/oai</request>'
            f"<ListRecords>{''.join(records)}</ListRecords></OAI-PMH>").encode("utf-8")


def _dc(i: int) -> str:
    return oai_dc_xml(i, LANGUAGES[i % len(LANGUAGES)])


def _store(engine: Any, body: bytes, *, defer: bool, epoch: int = 1,
           mark_seen: bool = True) -> tuple[Any, list[Any]]:
    records = parse_response(body, defer_records=defer).records
    with Session(engine) as s, s.begin():
        counts = store_page(s, source=SRC, metadata_prefix="oai_dc", records=records, now=NOW,
                            epoch=epoch, run_id=None, mark_seen=mark_seen)
    return counts, records


def _rows(engine: Any) -> dict[str, tuple[Any, ...]]:
    with Session(engine) as s:
        return {r.identifier: (r.sha256, r.deleted, r.xml, r.error, r.datestamp, r.sets, r.diagnostics)
                for r in s.scalars(select(RawRow).where(RawRow.source == SRC))}


def _tally(counts: Any) -> tuple[int, ...]:
    return (counts.records, counts.new, counts.updated, counts.unchanged, counts.deleted,
            counts.failed, len(counts.changes))


def test_clean_records_are_deferred_and_resolve_to_the_eager_parse() -> None:
    body = _page(_record("oai:x:1", _dc(1)), _record("oai:x:2", deleted=True),
                 _record("oai:x:3&amp;b", _dc(3)))
    eager = parse_response(body).records
    lazy = parse_response(body, defer_records=True).records
    assert isinstance(lazy[0], DeferredRecord) and isinstance(lazy[1], DeferredRecord)
    assert isinstance(lazy[2], RawRecord), "an entity in the identifier: parsed at once"
    assert not lazy[0].parsed
    for a, b in zip(eager, lazy):
        assert b.xml == a.xml
        assert b.header == a.header and b.error == a.error and b.diagnostics == a.diagnostics
        assert (b.element is None) == (a.element is None)
    assert lazy[0].parsed


def test_records_with_repairs_or_page_diagnostics_are_never_deferred() -> None:
    repaired = _page(_record("oai:x:1", _dc(1).replace("<dc:type>", "<dc:type>\x01")),
                     _record("oai:x:2", _dc(2)))
    records = parse_response(repaired, defer_records=True).records
    assert isinstance(records[0], RawRecord) and records[0].diagnostics
    assert isinstance(records[1], DeferredRecord)
    doctype = repaired.replace(b"<OAI-PMH", b"<!DOCTYPE OAI-PMH><OAI-PMH", 1)
    assert all(isinstance(r, RawRecord) for r in parse_response(doctype, defer_records=True).records)


def test_an_unchanged_page_is_not_parsed_and_counts_as_unchanged(store: Any) -> None:
    body = _page(*(_record(f"oai:x:{i}", _dc(i)) for i in range(20)), _record("oai:x:99", deleted=True))
    first, _ = _store(store, body, defer=True)
    assert first.new == 20 and first.deleted == 1
    again, records = _store(store, body, defer=True)
    assert again.unchanged == 21 and again.new == again.updated == 0 and not again.changes
    live = [r for r in records if "oai:x:99" not in r.xml]
    assert not any(r.parsed for r in live), "unchanged live records must not be parsed"


SCENARIOS: list[tuple[str, list[bytes]]] = [
    ("edit one record", [
        _page(*(_record(f"oai:x:{i}", _dc(i)) for i in range(5))),
        _page(*(_record(f"oai:x:{i}", _dc(i + (i == 2) * 7)) for i in range(5))),
    ]),
    ("deleted, then back with the same text", [
        _page(_record("oai:x:1", _dc(1)), _record("oai:x:2", _dc(2))),
        _page(_record("oai:x:1", deleted=True), _record("oai:x:2", _dc(2))),
        _page(_record("oai:x:1", _dc(1)), _record("oai:x:2", _dc(2))),
    ]),
    ("one identifier twice in a page, stored copy last", [
        _page(_record("oai:x:1", _dc(1))),
        _page(_record("oai:x:1", _dc(8)), _record("oai:x:1", _dc(1))),
        _page(_record("oai:x:1", _dc(1)), _record("oai:x:1", _dc(8))),
    ]),
    ("unparseable record stored, then seen again, then fixed", [
        _page(_record("oai:x:1", "<dc:title>broken</dc:titel>"), _record("oai:x:2", _dc(2))),
        _page(_record("oai:x:1", "<dc:title>broken</dc:titel>"), _record("oai:x:2", _dc(2))),
        _page(_record("oai:x:1", _dc(1)), _record("oai:x:2", _dc(2))),
    ]),
    ("datestamp changed, text otherwise the same", [
        _page(_record("oai:x:1", _dc(1))),
        _page(_record("oai:x:1", _dc(1), datestamp="2025-02-02T00:00:00Z")),
    ]),
]


@pytest.mark.parametrize("pages", [p for _, p in SCENARIOS], ids=[n for n, _ in SCENARIOS])
def test_deferred_and_eager_stores_end_identical(store_url: str, tmp_path: Any,
                                                 pages: list[bytes]) -> None:
    from harvester.store.engine import open_store

    eager_engine = open_store(store_url)
    lazy_engine = open_store(f"sqlite:///{tmp_path}/lazy.db")
    try:
        for body in pages:
            eager, _ = _store(eager_engine, body, defer=False)
            lazy, _ = _store(lazy_engine, body, defer=True)
            assert _tally(lazy) == _tally(eager), body[-300:]
            assert _rows(lazy_engine) == _rows(eager_engine)
    finally:
        eager_engine.dispose()
        lazy_engine.dispose()


def test_tombstoned_row_with_unchanged_text_comes_back_live(store: Any) -> None:
    body = _page(_record("oai:x:1", _dc(1)))
    _store(store, body, defer=True)
    with Session(store) as s, s.begin():  # what full-harvest reconciliation does
        s.execute(update(RawRow).values(deleted=True))
    counts, _ = _store(store, body, defer=True)
    assert counts.updated == 1 and counts.unchanged == 0
    assert _rows(store)["oai:x:1"][1] is False


def test_seen_stamps_follow_mark_seen(store: Any) -> None:
    body = _page(*(_record(f"oai:x:{i}", _dc(i)) for i in range(3)))
    _store(store, body, defer=True, epoch=1)
    _store(store, body, defer=True, epoch=2, mark_seen=False)
    with Session(store) as s:
        assert set(s.scalars(select(RawRow.seen_epoch))) == {1}
    _store(store, body, defer=True, epoch=3, mark_seen=True)
    with Session(store) as s:
        assert set(s.scalars(select(RawRow.seen_epoch))) == {3}


def _harvest(engine: Any, src: Any, **kw: Any) -> Any:
    harvester = Harvester(engine, settings=HarvestConfig(max_empty_pages=20), sleep=lambda _s: None)
    try:
        return harvester.harvest(src, **kw)
    finally:
        harvester.pools.close()


def test_policy_turning_to_no_mid_full_harvest_tombstones_nothing_until_next_full(
        store: Any, oai_server: Any) -> None:
    from dataclasses import replace

    from oai_fixtures import status

    records = make_records(120)  # several pages
    server = oai_server(records, deleted_record="persistent")
    src = source_for(server, name=SRC, retries=0)
    assert _harvest(store, src).new == 120
    server.faults.append(status(500, token=True, times=None))
    interrupted = _harvest(store, src, full=True)
    assert interrupted.status != "ok"
    with Session(store) as s:
        state = s.get(SourceState, SRC)
        assert state.full_in_progress and state.unmarked_epoch == state.full_epoch
    server.faults.clear()
    repository = server.repository
    repository._info = replace(repository.info(), deleted_record="no")  # noqa: SLF001
    gone = records[-1]  # on the last page, so not seen by the resumed run either way
    with server.repository._lock:  # noqa: SLF001 - dropped without a tombstone
        server.repository._remove_key(gone.key)  # noqa: SLF001
        del server.repository._by_id[gone.identifier]  # noqa: SLF001
    resumed = _harvest(store, src, full=True)
    assert resumed.status == "ok" and resumed.deleted == 0, "stamps incomplete: nothing tombstoned"
    assert not stored(store, SRC)[records[0].identifier].deleted
    assert not stored(store, SRC)[gone.identifier].deleted
    next_full = _harvest(store, src, full=True)
    assert next_full.status == "ok" and next_full.deleted == 1
    rows = stored(store, SRC)
    assert rows[gone.identifier].deleted
    assert sum(r.deleted for r in rows.values()) == 1


canonical_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**53, 2**53) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=300, deadline=None)
@given(canonical_values)
def test_digest_is_the_stdlib_canonical_json_digest(value: Any) -> None:
    """Digests stored by earlier versions (stdlib json) must compare equal to today's."""
    record = {"v": value}
    try:
        text = json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        expected = hashlib.sha256(text.encode("utf-8")).hexdigest()
    except UnicodeEncodeError:  # a lone surrogate: neither version can store it
        with pytest.raises(orjson.JSONEncodeError):
            _digest(record)
        return
    assert _digest(record) == expected


def test_last_raw_id_is_the_sources_highest_committed_row(store: Any) -> None:
    """The mapper follower's ceiling: per source and prefix, never another source's rows."""
    from harvester.store.raw import last_raw_id

    with Session(store) as s:
        assert last_raw_id(s, SRC, "oai_dc") == 0
    _store(store, _page(_record("oai:x:1", _dc(1)), _record("oai:x:2", _dc(2))), defer=True)
    with Session(store) as s, s.begin():
        store_page(s, source="other-src", metadata_prefix="oai_dc", now=NOW,
                   records=parse_response(_page(_record("oai:y:1", _dc(3)))).records)
    with Session(store) as s:
        ours = s.scalars(select(RawRow.id).where(RawRow.source == SRC)).all()
        theirs = s.scalars(select(RawRow.id).where(RawRow.source == "other-src")).all()
        assert max(theirs) > max(ours)
        assert last_raw_id(s, SRC, "oai_dc") == max(ours)
        assert last_raw_id(s, SRC, "marcxml") == 0
