"""The search index goes away between harvests and comes back: the backlog catches it up.

test_pipeline.py shows an index that is down from the start keeps a backlog that an
explicit relay applies.  Here an index that was serving goes away while the provider
changes (an edit, a deletion, an addition), and the *next ordinary harvest* — with
nothing new at the provider — must bring it back to exactly the live records, with the
edit searchable and the deleted record gone.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

from oai_fixtures import make_records
from reliability_fixtures import changed
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harvester.config import parse_settings
from harvester.pipeline import run_harvest
from harvester.relay import index_status
from harvester.store.engine import open_store
from harvester.store.models import Outbox
from indexer import SearchQuery, SearchSettings, open_backend
from mappings import record_id

SRC = "kz-rel"


def _settings(tmp_path: Path, store_url: str, url: str) -> Any:
    return parse_settings(f"""
store: "{store_url}"
search: {{backend: embedded, path: "{tmp_path / 'index'}"}}
sources:
  {SRC}:
    url: {url}
    partner: {{name: Kazakh test partner, country: KZ}}
    defaults: {{category: element}}
    retries: 1
    max_backoff_s: 0.1
""", "test.yaml")


def _indexed(index_path: Path) -> set[str]:
    backend = open_backend(SearchSettings(path=str(index_path)))
    try:
        found: set[str] = set()
        total = backend.count()
        for offset in range(0, total, 100):
            page = backend.search(SearchQuery(q="", facets=False, limit=100, offset=offset))
            found.update(hit["id"] for hit in page["results"])
        assert len(found) == total
        return found
    finally:
        backend.close()


def _hits(index_path: Path, text: str) -> set[str]:
    backend = open_backend(SearchSettings(path=str(index_path)))
    try:
        return {hit["id"] for hit in backend.search(SearchQuery(q=text, facets=False, limit=50))["results"]}
    finally:
        backend.close()


def _outbox(engine: Any) -> int:
    with Session(engine) as s:
        return s.scalar(select(func.count()).select_from(Outbox)) or 0


def test_index_lost_between_harvests_is_caught_up_by_the_next_one(store_url: str, oai_server: Any,
                                                                   tmp_path: Path) -> None:
    records = make_records(40, languages=("kk", "mn", "ko"))
    server = oai_server(records, page_size=15)
    settings = _settings(tmp_path, store_url, server.base_url)
    index = tmp_path / "index"
    [first] = run_harvest(settings, [])
    assert first.status == "ok", first.error
    assert _indexed(index) == {record_id(SRC, r.identifier) for r in records}

    # the index's disk goes away; meanwhile the partner edits, deletes and adds
    hidden = tmp_path / "index-unmounted"
    index.rename(hidden)
    index.write_text("not an index")
    at = datetime.now(timezone.utc).replace(microsecond=0) + timedelta(seconds=2)
    edited = changed(records[3], at, "Zhetisu embroidery revival")
    server.repository.put(edited)
    server.repository.delete(records[7].identifier, at)
    added = replace(records[0], identifier="oai:ichlinks.test:late-1", datestamp=at)
    server.repository.put(added)
    [second] = run_harvest(settings, [])
    assert second.status == "ok", "an index outage must not fail the harvest"
    assert (second.new, second.updated, second.deleted) == (1, 1, 1)
    assert any("outbox" in note for note in second.notes)
    engine = open_store(settings.store)
    try:
        assert _outbox(engine) == 3
        assert index_status(engine, settings.search)["last_error"]

        # the disk is back; the next ordinary harvest finds nothing new and still catches up
        index.unlink()
        hidden.rename(index)
        [third] = run_harvest(settings, [])
        assert third.status == "ok" and (third.new, third.updated, third.deleted) == (0, 0, 0)
        assert _outbox(engine) == 0
    finally:
        engine.dispose()
    live = {record_id(SRC, r.identifier) for r in records if r.identifier != records[7].identifier}
    assert _indexed(index) == live | {record_id(SRC, added.identifier)}
    assert record_id(SRC, edited.identifier) in _hits(index, "Zhetisu")
