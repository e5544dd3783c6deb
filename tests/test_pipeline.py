"""harvest -> crosswalk -> outbox -> index, through the same code the CLI runs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from oai_fixtures import make_records
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from harvester.config import parse_settings
from harvester.crosswalking import remap
from harvester.export import iter_ich
from harvester.pipeline import run_harvest
from harvester.relay import index_status, relay_outbox
from harvester.report import source_report
from harvester.searching import parse_filters, run_search
from harvester.store.engine import open_store
from harvester.store.models import IchRecord, Outbox
from mappings import ich_json_schema

UTC = timezone.utc
re_title = re.compile(r"<dc:title[^>]*>.*?</dc:title>", re.S)


def settings_for(tmp_path: Path, store_url: str, url: str, index_path: Path | None = None) -> Any:
    index_path = index_path or tmp_path / "index"
    return parse_settings(f"""
store: "{store_url}"
search: {{backend: embedded, path: "{index_path}"}}
sources:
  kr-test:
    url: {url}
    partner: {{name: Korean test partner, country: KR}}
    defaults: {{category: element}}
    retries: 1
    max_backoff_s: 0.1
""", "test.yaml")


def counts(engine: Any) -> dict[str, int]:
    with Session(engine) as s:
        published = s.scalar(select(func.count()).select_from(IchRecord).where(
            IchRecord.deleted.is_(False), IchRecord.quarantined.is_(False)))
        outbox = s.scalar(select(func.count()).select_from(Outbox))
    return {"published": published or 0, "outbox": outbox or 0}


def test_harvest_maps_indexes_and_follows_deletions(store_url: str, oai_server: Any,
                                                    tmp_path: Path) -> None:
    records = make_records(70, deleted_every=10)
    server = oai_server(records, page_size=25)
    settings = settings_for(tmp_path, store_url, server.base_url)
    [result] = run_harvest(settings, [])
    assert result.status == "ok", result.error
    engine = open_store(settings.store)
    assert counts(engine) == {"published": 63, "outbox": 0}
    st = index_status(engine, settings.search)
    assert st["pending"] == 0 and st["index"]["doc_count"] == 63

    hits = run_search(settings, parse_filters("판소리", []))
    korean = [r for r in records if not r.deleted and "판소리" in r.metadata["oai_dc"]]
    assert hits["total"] == len(korean) > 0
    assert all(h["countries"] == ["KR"] and h["source"] == "kr-test" for h in hits["results"])

    schema = ich_json_schema()
    exported = list(iter_ich(engine))
    assert len(exported) == 63
    for item in exported:
        assert item["quarantined"] is False and isinstance(item["diagnostics"], list)
        record = {k: v for k, v in item.items() if k not in ("quarantined", "diagnostics")}
        jsonschema.validate(record, schema)

    # a record deleted at the provider leaves the store's published set and the index
    victim = korean[0]
    server.repository.delete(victim.identifier, datetime.now(UTC) + timedelta(seconds=2))
    [again] = run_harvest(settings, [])
    assert again.status == "ok" and again.deleted == 1
    assert counts(engine) == {"published": 62, "outbox": 0}
    assert run_search(settings, parse_filters("판소리", []))["total"] == len(korean) - 1

    # remapping unchanged raw records changes nothing and queues nothing
    [summary] = remap(engine, settings, list(settings.sources.values()))
    assert summary.changed == 0 and summary.unchanged == summary.mapped
    assert counts(engine)["outbox"] == 0

    rep = source_report(engine, "kr-test")
    assert rep["published"] == 62 and rep["quarantined"] == 0
    assert rep["coverage"]["title"] == 100.0
    engine.dispose()


def test_index_down_keeps_a_backlog_that_is_applied_later(store_url: str, oai_server: Any,
                                                          tmp_path: Path) -> None:
    server = oai_server(make_records(30))
    blocker = tmp_path / "not-a-directory"
    blocker.write_text("the index cannot live here")
    down = settings_for(tmp_path, store_url, server.base_url, index_path=blocker / "index")
    [result] = run_harvest(down, [])
    assert result.status == "ok", "an unavailable index must not fail the harvest"
    assert any("outbox" in n for n in result.notes)
    engine = open_store(down.store)
    assert counts(engine) == {"published": 30, "outbox": 30}
    assert index_status(engine, down.search)["last_error"]

    up = replace(down, search=replace(down.search, path=str(tmp_path / "index")))
    report = relay_outbox(engine, up.search)
    assert report["error"] is None and report["applied"] == 30
    assert counts(engine)["outbox"] == 0
    assert run_search(up, parse_filters("", []))["total"] == 30
    engine.dispose()


def test_replayed_outbox_is_harmless(store: Any, oai_server: Any, tmp_path: Path) -> None:
    """A crash between the index write and the outbox delete resends: versions make it a no-op."""
    server = oai_server(make_records(12))
    settings = settings_for(tmp_path, str(store.url.render_as_string(hide_password=False)), server.base_url)
    run_harvest(settings, [])
    with Session(store) as s, s.begin():
        for rid in s.scalars(select(IchRecord.id)):
            s.add(Outbox(record_id=rid, action="upsert", created_at=datetime.now(UTC), attempts=0))
    report = relay_outbox(store, settings.search)
    assert report["error"] is None and report["applied"] == 12
    assert run_search(settings, parse_filters("", []))["total"] == 12


def test_cli_search_index_status_reindex_report(store_url: str, oai_server: Any, tmp_path: Path) -> None:
    server = oai_server(make_records(21, languages=("vi", "kk")))
    cfg = tmp_path / "ichlinks.yaml"
    cfg.write_text(f'store: "{store_url}"\nsearch: {{backend: embedded, path: "{tmp_path / "ix"}"}}\n'
                   f"sources:\n  vn:\n    url: {server.base_url}\n    partner: {{name: VN, country: VN}}\n",
                   encoding="utf-8")

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "harvester.cli", "--config", str(cfg), *args],
                              capture_output=True, text=True, timeout=120)

    assert cli("harvest").returncode == 0
    found = json.loads(cli("search", "Nhã nhạc", "--json").stdout)
    assert found["total"] > 0 and set(found) == {"total", "results", "facets"}
    assert set(found["results"][0]) == {"id", "title", "category", "countries", "source", "snippet", "score"}
    folded = json.loads(cli("search", "nha nhac", "--json").stdout)
    assert folded["total"] == found["total"]
    filtered = json.loads(cli("search", "", "--filter", "languages=kk", "--json").stdout)
    assert filtered["total"] > 0 and set(filtered["facets"]["languages"]) == {"kk"}
    bad = cli("search", "x", "--filter", "colour=red")
    assert bad.returncode == 2 and "colour" in bad.stderr
    st = json.loads(cli("index", "status", "--json").stdout)
    assert st["pending"] == 0 and st["published_records"] == 21
    rx = cli("reindex", "--json")
    assert rx.returncode == 0, rx.stderr
    assert json.loads(cli("search", "", "--json").stdout)["total"] == 21
    rep = json.loads(cli("report", "vn", "--json").stdout)
    assert rep["source"] == "vn" and rep["published"] == 21


@pytest.mark.parametrize("command", ["report", "remap", "search", "reindex"])
def test_help(command: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "harvester.cli", command, "--help"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0 and "--json" in proc.stdout


def test_quarantined_records_are_kept_reported_and_never_indexed(store_url: str, oai_server: Any,
                                                                 tmp_path: Path) -> None:
    records = make_records(10)
    untitled = [replace(r, metadata={"oai_dc": re_title.sub("", r.metadata["oai_dc"])})
                for r in records[:3]]
    server = oai_server(untitled + records[3:])
    settings = settings_for(tmp_path, store_url, server.base_url)
    [result] = run_harvest(settings, [])
    assert result.status == "ok"
    engine = open_store(settings.store)
    assert counts(engine) == {"published": 7, "outbox": 0}
    assert run_search(settings, parse_filters("", []))["total"] == 7
    assert len(list(iter_ich(engine))) == 7
    everything = list(iter_ich(engine, include_quarantined=True))
    quarantined = [i for i in everything if i["quarantined"]]
    assert len(everything) == 10 and len(quarantined) == 3
    assert all(any(d["level"] == "error" and "title" in (d["field"] or d["code"]) for d in i["diagnostics"])
               for i in quarantined)
    rep = source_report(engine, "kr-test")
    assert rep["quarantined"] == 3 and rep["published"] == 7
    assert sum(rep["quarantine_reasons"].values()) >= 3
    # quarantined records are retried on every remap; fixing the crosswalk input fixes them
    [summary] = remap(engine, settings, list(settings.sources.values()))
    assert summary.quarantined == 3 and summary.mapped == 10
    engine.dispose()


def _harvested(records: list[Any], store_url: str, oai_server: Any, tmp_path: Path, *,
               page_size: int, **run: Any) -> tuple[Any, Any]:
    """Settings and an open store after one successful harvest of ``records``."""
    server = oai_server(records, page_size=page_size)
    settings = settings_for(tmp_path, store_url, server.base_url)
    [result] = run_harvest(settings, [], **run)
    assert result.status == "ok", result.error
    return settings, open_store(settings.store)


@pytest.mark.parametrize("follower", [True, False], ids=["follower-process", "in-process"])
def test_follower_and_in_process_pipelines_agree(store_url: str, oai_server: Any, tmp_path: Path,
                                                 follower: bool) -> None:
    records = make_records(140, deleted_every=6)
    settings, engine = _harvested(records, store_url, oai_server, tmp_path, page_size=20,
                                  follower=follower)
    live = sum(1 for r in records if not r.deleted)
    assert counts(engine) == {"published": live, "outbox": 0}
    assert run_search(settings, parse_filters("", []))["total"] == live
    engine.dispose()


def _ich_rows(engine: Any) -> dict[str, tuple[Any, ...]]:
    with Session(engine) as s:
        return {r.id: (r.raw_id, r.output_sha256, r.deleted, r.quarantined, r.record, r.diagnostics)
                for r in s.scalars(select(IchRecord))}


def test_parallel_remap_maps_every_record_once_as_a_single_process_does(
        store_url: str, oai_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import delete

    import harvester.crosswalking as crosswalking

    monkeypatch.setattr(crosswalking, "REMAP_CLAIM_IDS", 7)  # many claims, every worker busy
    records = make_records(90, deleted_every=7)
    settings, engine = _harvested(records, store_url, oai_server, tmp_path, page_size=30,
                                  relay=False)
    sources = list(settings.sources.values())
    outcomes = {}
    for workers in (1, 2, 3):
        with Session(engine) as s, s.begin():  # forget every mapping: remap must write all of them
            s.execute(delete(Outbox))
            s.execute(delete(IchRecord))
        [summary] = remap(engine, settings, sources, workers=workers)
        assert summary.mapped == 90 and summary.changed == 90 and summary.unchanged == 0
        assert summary.deleted == sum(r.deleted for r in records)
        rows = _ich_rows(engine)
        assert len(rows) == 90
        with Session(engine) as s:
            queued = sorted(s.scalars(select(Outbox.record_id)))
        assert queued == sorted(i for i, row in rows.items() if not row[2] and not row[3])
        outcomes[workers] = (summary.as_json(), {i: row[1:] for i, row in rows.items()})
    assert outcomes[1] == outcomes[2] == outcomes[3]
    [again] = remap(engine, settings, sources, workers=2)
    assert again.changed == 0 and again.unchanged == 90
    engine.dispose()


def test_remap_reports_its_progress_from_zero_to_every_record(
        store_url: str, oai_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harvester.crosswalking as crosswalking

    monkeypatch.setattr(crosswalking, "BATCH", 25)
    settings, engine = _harvested(make_records(90, deleted_every=7), store_url, oai_server,
                                  tmp_path, page_size=30, relay=False)
    sources = list(settings.sources.values())
    assert crosswalking.raw_record_count(engine, sources) == 90
    one: list[int] = []
    remap(engine, settings, sources, workers=1, progress=one.append)
    assert one == [0, 25, 50, 75, 90]  # after each committed batch
    two: list[int] = []
    [summary] = remap(engine, settings, sources, workers=2, progress=two.append)
    assert summary.mapped == 90
    assert two[0] == 0 and two[-1] == 90 and two == sorted(two)
    engine.dispose()


def test_reindex_reports_what_the_new_index_has_taken(
        store_url: str, oai_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harvester.relay as relay

    monkeypatch.setattr(relay, "BATCH", 20)
    records = make_records(70, deleted_every=10)
    settings, engine = _harvested(records, store_url, oai_server, tmp_path, page_size=35)
    seen: list[tuple[int, int]] = []
    result = relay.reindex(engine, settings.search, progress=lambda n, of: seen.append((n, of)))
    assert result["count"] == result["expected"] == 63
    assert seen == [(0, 63), (20, 63), (40, 63), (60, 63), (63, 63)]
    engine.dispose()


def test_remap_claims_cover_every_id_once_in_order() -> None:
    import multiprocessing

    from harvester.crosswalking import REMAP_CLAIM_IDS, _RemapClaims

    for first, last in ((1, 1), (5, 5 + REMAP_CLAIM_IDS - 1), (5, 5 + REMAP_CLAIM_IDS),
                        (3, 3 + 3 * REMAP_CLAIM_IDS + 17)):
        claims = _RemapClaims("s", first, last, multiprocessing.Value("q", 0))
        ranges = []
        while (claim := claims.claim()) is not None:
            ranges.append(claim)
        covered = [i for after, through in ranges for i in range(after + 1, through + 1)]
        assert covered == list(range(first, last + 1))
        assert claims.claim() is None  # stays exhausted for a late worker


def test_no_fork_beside_other_threads(store_url: str, oai_server: Any, tmp_path: Path,
                                      caplog: pytest.LogCaptureFixture,
                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """A harvest started from a thread of a busy process (scheduler, HTTP service) maps and
    relays in-process: a child forked beside other threads can hang on a lock one of them held."""
    import multiprocessing
    import threading

    from harvester.forking import fork_is_safe

    forks: list[str] = []
    real = multiprocessing.get_context

    def counting(method: str | None = None) -> Any:
        forks.append(str(method))
        return real(method)

    release = threading.Event()
    bystander = threading.Thread(target=release.wait, name="bystander", daemon=True)
    bystander.start()
    try:
        assert not fork_is_safe()
        monkeypatch.setattr(multiprocessing, "get_context", counting)
        records = make_records(30, deleted_every=7)
        with caplog.at_level("INFO", logger="ichlinks.pipeline"):
            settings, engine = _harvested(records, store_url, oai_server, tmp_path, page_size=10)
        summaries = remap(engine, settings, list(settings.sources.values()))
    finally:
        release.set()
        bystander.join()
    assert forks == []
    assert "forking beside them is not safe" in caplog.text
    live = sum(1 for r in records if not r.deleted)
    assert counts(engine) == {"published": live, "outbox": 0}
    assert [s.mapped for s in summaries] == [len(records)]
    engine.dispose()


def test_the_final_sweep_runs_only_for_rows_the_follower_passes_by(
        store_url: str, oai_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """After the follower's clean last pass, a source whose harvest rewrote no stored row is
    not swept again; a row rewritten in place (below the follower's cursor) still is."""
    from reliability_fixtures import changed

    from harvester import crosswalking
    from harvester.store.models import RawRecord

    records = make_records(60)
    server = oai_server(records, page_size=20)
    settings = settings_for(tmp_path, store_url, server.base_url)
    sweeps: list[str] = []
    real = crosswalking.CrosswalkStage.map_pending

    def counted(self: Any, source: Any, **kw: Any) -> Any:
        sweeps.append(source.name)  # only this process's calls: the follower's are its own
        return real(self, source, **kw)

    monkeypatch.setattr(crosswalking.CrosswalkStage, "map_pending", counted)
    for _ in range(2):
        [result] = run_harvest(settings, [], full=True, follower=True)
        assert result.status == "ok" and result.rewritten == 0
    assert sweeps == []
    edited = changed(records[3], records[3].datestamp, "edited in place")
    server.repository.put(edited)
    [result] = run_harvest(settings, [], full=True, follower=True)
    assert result.updated == 1 and result.rewritten == 1
    assert sweeps == ["kr-test"]
    engine = open_store(settings.store)
    with Session(engine) as s:
        record = s.scalars(select(IchRecord.record).join(RawRecord, RawRecord.id == IchRecord.raw_id)
                           .where(RawRecord.identifier == edited.identifier)).one()
    assert "edited in place" in record
    engine.dispose()
