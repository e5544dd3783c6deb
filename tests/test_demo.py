"""``ichlinks demo`` end to end: real OAI-PMH partners on 127.0.0.1, the real pipeline, the index.

The expected counts are computed here from the bundled YAML with the OAI-PMH rules
(a ``deletedRecord=no`` repository forgets deletions; an untitled record is quarantined),
independently of the demo's own self-check, and the index the demo built is searched
with queries of this test's own, not only the demo's sample searches.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner

from harvester.cli import main

DATA = Path(__file__).resolve().parents[1] / "harvester" / "demo" / "data"
REPO = Path(__file__).resolve().parents[1]


def _data_files() -> dict[str, dict[str, Any]]:
    out = {}
    for path in sorted(DATA.glob("*.yaml")):
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
        if "records" in data:
            out[data["source"]] = data
    return out


def _expected(data: dict[str, Any]) -> dict[str, int]:
    records = data["records"]
    deleted = [r for r in records if r.get("deleted")]
    live = [r for r in records if not r.get("deleted")]
    listed_deleted = 0 if data["repository"]["deleted_record"] == "no" else len(deleted)
    return {"live": len(live), "deleted": listed_deleted,
            "quarantined": sum(1 for r in live if not r.get("title")),
            "listed": len(live) + listed_deleted}


def _run_demo(directory: Path, cwd: Path, env: dict[str, str]) -> tuple[int, dict[str, Any], str]:
    proc = subprocess.run([sys.executable, "-m", "harvester.cli", "demo", "--dir", str(directory), "--json"],
                          cwd=cwd, env=env, capture_output=True, text=True, timeout=120)
    assert proc.stdout.strip(), f"no output; stderr:\n{proc.stderr}"
    return proc.returncode, json.loads(proc.stdout), proc.stderr


@pytest.fixture(scope="module")
def demo_runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """The demo run twice into the same directory, with operator overrides set that it must ignore."""
    base = tmp_path_factory.mktemp("demo")
    directory = base / "var" / "demo"
    decoy_store = base / "operator" / "production.db"
    env = {**os.environ, "PYTHONPATH": str(REPO),
           "ICHLINKS_STORE": f"sqlite:///{decoy_store}",
           "ICHLINKS_ES_URL": "http://127.0.0.1:9",
           "ICHLINKS_CONFIG": str(base / "missing.yaml")}
    first = _run_demo(directory, base, env)
    second = _run_demo(directory, base, env)
    return {"dir": directory, "first": first, "second": second, "decoy_store": decoy_store}


def test_every_source_harvested_ok_with_the_data_counts(demo_runs: dict[str, Any]) -> None:
    code, doc, stderr = demo_runs["first"]
    assert code == 0, (doc.get("problems"), stderr)
    assert doc["ok"] is True and doc["problems"] == []
    data = _data_files()
    assert len(data) >= 3
    countries = {d["partner"]["country"] for d in data.values()}
    assert len(countries) == len(data)  # every partner from a different country
    assert len({d["metadata_prefix"] for d in data.values()}) >= 3
    by_source = {s["source"]: s for s in doc["sources"]}
    assert set(by_source) == set(data)
    for name, partner in data.items():
        row, want = by_source[name], _expected(partner)
        assert row["status"] == "ok", row
        assert row["mode"] == "full"
        assert (row["live"], row["deleted_stored"]) == (want["live"], want["deleted"]), name
        assert row["records"] == want["listed"], name
        assert row["deleted"] == want["deleted"], name
        assert row["new"] == want["live"], name
        assert row["failed"] == 0
        assert row["quarantined"] == want["quarantined"], name
        assert row["published"] == want["live"] - want["quarantined"], name
        assert 15 <= len(partner["records"]) <= 40
    # The quirks are really there: paging, deletions, a quarantined stub, a forgetful repository.
    assert all(s["pages"] >= 2 for s in doc["sources"])
    assert sum(s["deleted"] for s in doc["sources"]) > 0
    assert sum(s["quarantined"] for s in doc["sources"]) >= 1
    assert {p["deleted_record"] for p in doc["partners"]} >= {"no", "transient", "persistent"}
    assert {p["granularity"] for p in doc["partners"]} == {"YYYY-MM-DD", "YYYY-MM-DDThh:mm:ssZ"}
    assert doc["index"]["records"] == sum(s["published"] for s in doc["sources"])


def test_the_demo_ignores_the_operators_store_and_index(demo_runs: dict[str, Any]) -> None:
    code, doc, _ = demo_runs["first"]
    assert code == 0
    assert not demo_runs["decoy_store"].exists()
    assert doc["index"]["backend"] == "embedded"
    assert Path(doc["index"]["path"]) == demo_runs["dir"].resolve() / "index"
    config = yaml.safe_load(Path(doc["config"]).read_text(encoding="utf-8"))
    assert config["store"] == f"sqlite:///{demo_runs['dir'].resolve() / 'ichlinks.db'}"
    assert (demo_runs["dir"] / "ichlinks.db").is_file()


def _search(index_path: str, q: str) -> dict[str, Any]:
    from indexer import SearchQuery, SearchSettings, open_backend

    backend = open_backend(SearchSettings(backend="embedded", path=index_path))
    try:
        return backend.search(SearchQuery(q=q, limit=50))
    finally:
        backend.close()


@pytest.mark.parametrize(("query", "source", "title_part"), [
    ("hát xoan", "vn-vicas", "Hát Xoan"),
    ("hat xoan", "vn-vicas", "Hát Xoan"),          # Vietnamese without diacritics
    ("Nhã nhạc", "vn-vicas", "Nhã nhạc"),
    ("nha nhac", "vn-vicas", "Nhã nhạc"),
    ("ca tru", "vn-vicas", "Ca trù"),
    ("판소리", "kr-nihc", "판소리"),
    ("강강술래", "kr-nihc", "강강술래"),
    ("해녀", "kr-nihc", "해녀"),                    # inside 제주해녀문화 / 해녀박물관
    ("домбыра", "kz-kuy", "омбыра"),
    ("күй", "kz-kuy", "күй"),
    ("Құрманғазы", "kz-kuy", "Құрманғазы"),
    ("хөөмий", "mn-cch", "хөөмий"),
    ("Морин хуур", "mn-cch", "Морин хуур"),
    ("ᠮᠣᠩᠭᠣᠯ ᠪᠢᠴᠢᠭ", "mn-cch", "бичгийн уран бичлэг"),  # traditional Mongolian script
    ("ស្បែកធំ", "kh-mcfa", "ស្បែកធំ"),                  # Khmer, no spaces between words
    ("chapei", "kh-mcfa", "Chapei"),
])
def test_each_partners_languages_are_searchable(demo_runs: dict[str, Any], query: str, source: str,
                                                title_part: str) -> None:
    code, doc, _ = demo_runs["second"]
    assert code == 0
    found = _search(doc["index"]["path"], query)
    assert found["total"] >= 1, query
    assert {r["source"] for r in found["results"]} == {source}, query
    assert any(title_part.casefold() in r["title"].casefold() for r in found["results"]), found["results"]


def test_a_word_no_partner_uses_finds_nothing(demo_runs: dict[str, Any]) -> None:
    _, doc, _ = demo_runs["second"]
    assert _search(doc["index"]["path"], "zzqxv")["total"] == 0


def test_sample_searches_cover_every_partner_language(demo_runs: dict[str, Any]) -> None:
    _, doc, _ = demo_runs["first"]
    searches = {s["q"]: s for s in doc["searches"]}
    expectations = {"hát xoan": "vn-vicas", "hat xoan": "vn-vicas", "판소리": "kr-nihc",
                    "домбыра": "kz-kuy", "күй": "kz-kuy", "хөөмий": "mn-cch", "khoomei": "mn-cch",
                    "ល្ខោនខោល": "kh-mcfa"}
    for q, source in expectations.items():
        assert q in searches, f"sample search {q!r} missing"
        assert searches[q]["total"] >= 1
        assert set(searches[q]["sources"]) == {source}
        assert searches[q]["top"] and all(hit["source"] == source for hit in searches[q]["top"])
    assert searches["hát xoan"]["total"] == searches["hat xoan"]["total"]


def test_running_twice_starts_again_from_a_fresh_directory(demo_runs: dict[str, Any]) -> None:
    (code1, first, _), (code2, second, stderr) = demo_runs["first"], demo_runs["second"]
    assert code1 == 0 and code2 == 0, (second["problems"], stderr)
    assert second["dir"] == first["dir"]
    # Fresh store: everything is new again, nothing "unchanged" from the first run.
    for a, b in zip(first["sources"], second["sources"], strict=True):
        assert a["source"] == b["source"]
        assert (b["new"], b["unchanged"], b["live"], b["published"]) == (a["new"], 0, a["live"], a["published"])
    # Fresh index: no documents left over from the first run.
    assert second["index"]["records"] == first["index"]["records"]
    # New ports each time (the partners are started per run).
    assert {p["url"] for p in first["partners"]} != {p["url"] for p in second["partners"]}


def test_refuses_a_directory_it_did_not_make(tmp_path: Path) -> None:
    foreign = tmp_path / "someone-else"
    foreign.mkdir()
    (foreign / "thesis.txt").write_text("keep me", encoding="utf-8")
    result = CliRunner().invoke(main, ["demo", "--dir", str(foreign), "--json"])
    assert result.exit_code == 2, result.output
    assert "was not made by `ichlinks demo`" in result.output
    assert (foreign / "thesis.txt").read_text(encoding="utf-8") == "keep me"
    assert [p.name for p in foreign.iterdir()] == ["thesis.txt"]


def test_serve_without_the_service_says_so_and_fails(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import harvester.demo.cli as demo_cli

    monkeypatch.setattr(demo_cli, "_service_problem", lambda: "the HTTP service is not available (test)")
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "d"), "--serve", "--json"])
    assert result.exit_code == 1
    doc = json.loads(result.stdout)
    assert doc["ok"] is True
    assert doc["serve"] == {"port": 8000, "available": False, "error": "the HTTP service is not available (test)"}
    assert "--serve: the HTTP service is not available (test)" in result.stderr


def test_serve_runs_the_serve_command_on_the_demo_config(tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import harvester.demo.cli as demo_cli

    calls: list[list[str]] = []
    partner_up: list[bool] = []

    def fake_ichlinks(args: list[str]) -> None:
        import httpx

        calls.append(args)
        config = yaml.safe_load(Path(args[1]).read_text(encoding="utf-8"))
        url = next(iter(config["sources"].values()))["url"]
        partner_up.append(httpx.get(url, params={"verb": "Identify"}).status_code == 200)
        raise KeyboardInterrupt  # Ctrl-C

    monkeypatch.setattr(demo_cli, "_service_problem", lambda: None)
    monkeypatch.setattr(demo_cli, "_run_ichlinks", fake_ichlinks)
    monkeypatch.setenv("ICHLINKS_STORE", "sqlite:////nonexistent/operator.db")
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "d"), "--serve", "--port", "8123"])
    assert result.exit_code == 0, result.output
    assert calls == [["--config", str((tmp_path / "d").resolve() / "ichlinks.yaml"), "serve", "--port", "8123"]]
    assert partner_up == [True]  # the partners are still served while the service runs
    assert "ICHLINKS_STORE" not in os.environ
    assert "Harvest -> crosswalk -> index" in result.output
    assert "Everything worked" in result.output and "ichlinks demo --serve" not in result.output
    for name in _data_files():
        assert f"  {name} " in result.output


def test_a_store_that_disagrees_with_the_partners_fails_the_demo(tmp_path: Path,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    from harvester.demo.partners import DemoPartner

    real = DemoPartner.expected_counts

    def off_by_one(self: DemoPartner) -> dict[str, int]:
        counts = real(self)
        return {**counts, "live": counts["live"] + 1} if self.source == "kz-kuy" else counts

    monkeypatch.setattr(DemoPartner, "expected_counts", off_by_one)
    result = CliRunner().invoke(main, ["demo", "--dir", str(tmp_path / "d")])
    assert result.exit_code == 1
    assert "Everything worked" not in result.output
    want = _expected(_data_files()["kz-kuy"])
    assert (f"kz-kuy: stored {want['live']} live / {want['deleted']} deleted, "
            f"the partner serves {want['live'] + 1} / {want['deleted']}") in result.stderr
