"""The ichlinks command line: sources, probe, harvest, status, export --raw (the JSON contracts)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from cli_support import ichlinks, write_config
from oai_fixtures import make_records, status

HARVEST_KEYS = {"source", "status", "mode", "from", "until", "pages", "records", "new", "updated",
                "unchanged", "deleted", "failed", "refused_deletes", "error", "duration_s", "requests",
                "recognised_pages", "rewritten", "notes"}
RAW_KEYS = {"source", "identifier", "datestamp", "sets", "metadata_prefix", "deleted", "sha256", "xml"}


def test_harvest_json_status_sources_export(store_url: str, oai_server: Any, tmp_path: Path) -> None:
    good = oai_server(make_records(30, deleted_every=5))
    bad = oai_server(make_records(5), faults=[status(500, verb="ListRecords", times=None)])
    cfg = write_config(tmp_path, store_url, {"good": good.base_url, "bad": bad.base_url})

    proc = ichlinks("harvest", "--json", cfg=cfg)
    assert proc.returncode == 1, proc.stderr  # one source is not ok
    lines = [json.loads(line) for line in proc.stdout.strip().splitlines()]
    assert [d["source"] for d in lines] == ["good", "bad"]
    for d in lines:
        assert set(d) == HARVEST_KEYS
    ok, partial = lines
    assert ok["status"] == "ok" and ok["mode"] == "full" and ok["records"] == 30
    assert ok["new"] == 24 and ok["deleted"] == 6 and ok["error"] is None
    assert partial["status"] == "partial" and "HTTP 500" in partial["error"]
    assert ok["pages"] >= 1 and ok["requests"] >= ok["pages"]
    assert ok["recognised_pages"] == 0 and ok["rewritten"] == 0 and ok["notes"] == []

    # The same full list again: every page is known by its fingerprint, no row rewritten.
    again_full = json.loads(ichlinks("harvest", "good", "--full", "--json", cfg=cfg).stdout)
    assert again_full["new"] == 0 and again_full["unchanged"] == 30
    assert again_full["recognised_pages"] == again_full["pages"] == ok["pages"]
    assert again_full["rewritten"] == 0

    only_good = ichlinks("harvest", "good", "--json", cfg=cfg)
    assert only_good.returncode == 0, only_good.stderr
    again = json.loads(only_good.stdout)
    assert again["mode"] == "incremental" and again["from"]

    unknown = ichlinks("harvest", "nope", cfg=cfg)
    assert unknown.returncode == 2 and "unknown source 'nope'" in unknown.stderr

    st = json.loads(ichlinks("status", "--json", cfg=cfg).stdout)
    by = {row["source"]: row for row in st}
    assert by["good"]["records"] == {"live": 24, "deleted": 6, "failed": 0}
    assert [r["mode"] for r in by["good"]["runs"]] == ["incremental", "full", "full"]
    assert by["bad"]["runs"][0]["status"] == "partial"

    srcs = json.loads(ichlinks("sources", "--json", cfg=cfg).stdout)
    assert [s["source"] for s in srcs] == ["good", "bad"]
    assert srcs[0]["granularity"] == "YYYY-MM-DDThh:mm:ssZ"
    assert srcs[0]["last_run"]["status"] == "ok"

    exported = ichlinks("export", "--raw", "--source", "good", cfg=cfg)
    rows = [json.loads(line) for line in exported.stdout.splitlines()]
    assert len(rows) == 24 and all(set(r) == RAW_KEYS for r in rows)
    assert all(r["xml"].startswith("<record") and not r["deleted"] for r in rows)
    with_deleted = ichlinks("export", "--raw", "--include-deleted", cfg=cfg)
    assert len(with_deleted.stdout.splitlines()) == 30


def test_probe_reports_and_suggests_config(oai_server: Any) -> None:
    server = oai_server(make_records(12), granularity="YYYY-MM-DD", deleted_record="transient")
    proc = ichlinks("probe", server.base_url, "--json")
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stdout)
    assert report["ok"] and report["granularity"] == "YYYY-MM-DD"
    assert report["deleted_record"] == "transient"
    assert "oai_dc" in [f["metadataPrefix"] for f in report["formats"]]
    assert {s["setSpec"] for s in report["sets"]} >= {"ich:performing-arts"}
    assert report["first_page"]["records"] == 12
    assert report["sample_record"]["identifier"].startswith("oai:ichlinks.test:")
    assert "sources:" in report["config"] and server.base_url in report["config"]
    assert "ichlinks-test-partner:" in report["config"]  # named after the repository, not "127-0"
    text = ichlinks("probe", server.base_url)
    assert text.returncode == 0 and "Paste into config/ichlinks.yaml" in text.stdout


def test_probe_of_a_dead_endpoint_fails_clearly() -> None:
    proc = ichlinks("probe", "http://127.0.0.1:9/oai", "--json", "--timeout", "2")
    assert proc.returncode == 1
    report = json.loads(proc.stdout)
    assert not report["ok"] and "Identify failed" in report["problems"][0]


@pytest.mark.parametrize("command, option", [
    ("harvest", "--allow-mass-delete"), ("probe", "--json"), ("probe", "--mapping"), ("sources", "--json"),
    ("status", "--json"), ("export", "--include-deleted"), ("record", "--xml"),
    ("suppressions", "remove")])
def test_every_command_has_help(command: str, option: str) -> None:
    proc = ichlinks(command, "--help")
    assert proc.returncode == 0 and "Usage:" in proc.stdout and option in proc.stdout
