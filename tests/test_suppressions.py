"""Suppressions: a record withheld at a community's request stays withheld through re-harvests
and remaps, leaves the index and the API at once, and comes back when the suppression is lifted.

Real harvests from a provider over HTTP, the real CLI, SQLite and PostgreSQL.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from cli_support import ichlinks, write_config
from oai_fixtures import make_records
from test_service_support import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from harvester.config import load_settings
from harvester.runner import lease_name
from harvester.service import create_app
from harvester.service.oai_repository import repository_identifier
from harvester.store.engine import open_store
from harvester.store.leases import acquire_lease, release_lease
from harvester.store.models import Diagnostic, IchRecord, Outbox
from mappings import record_id

KEY = "oai:ichlinks.test:ich-00001"
REASON = "the community asked that this ritual not be shown (letter of 2026-12-01)"


def searchable_ids(cfg: Path) -> set[str]:
    result = json.loads(ichlinks("search", "", "--limit", "100", "--json", cfg=cfg).stdout)
    return {hit["id"] for hit in result["results"]}


def test_a_suppressed_record_stays_withheld_until_lifted(store_url: str, oai_server: Any,
                                                         tmp_path: Path) -> None:
    records = make_records(6)
    server = oai_server(records)
    cfg = write_config(tmp_path, store_url, {"vn-test": server.base_url})
    assert ichlinks("harvest", cfg=cfg).returncode == 0
    rid = record_id("vn-test", KEY)
    assert rid in searchable_ids(cfg)

    added = ichlinks("suppressions", "add", KEY, "--reason", REASON, "--by", "registrar", "--json", cfg=cfg)
    assert added.returncode == 0, added.stderr
    done = json.loads(added.stdout)
    assert done["id"] == rid and done["suppressed"] and done["relay"]["error"] is None
    assert rid not in searchable_ids(cfg) and len(searchable_ids(cfg)) == 5
    trace = json.loads(ichlinks("record", KEY, "--json", cfg=cfg).stdout)[0]
    assert trace["verdict"] == "suppressed" and REASON in trace["explanation"]
    assert trace["suppression"]["suppressed_by"] == "registrar"
    assert trace["index"]["searchable_version"] is None and trace["index"]["pending"] == []
    listed = json.loads(ichlinks("suppressions", "list", "--json", cfg=cfg).stdout)
    assert [(r["id"], r["source"], r["identifier"], r["reason"]) for r in listed] == [
        (rid, "vn-test", KEY, REASON)]
    report = json.loads(ichlinks("report", "vn-test", "--json", cfg=cfg).stdout)
    report = report[0] if isinstance(report, list) else report
    assert report["quarantine_reasons"] == {"suppressed": 1} and report["published"] == 5

    engine = open_store(store_url)
    settings = load_settings(str(cfg))
    try:
        client = TestClient(create_app(settings, engine=engine, oai_visibility_lag_s=0))
        refused = client.get(f"/api/records/{rid}")
        assert refused.status_code == 410 and "withheld" in refused.json()["detail"]
        assert "record" not in refused.json() and REASON not in refused.text
        assert client.get(f"/records/{rid}").status_code == 404  # the page shows nothing either
        oai_id = f"oai:{repository_identifier(settings.service)}:{rid}"
        feed = client.get("/oai", params={"verb": "GetRecord", "identifier": oai_id,
                                          "metadataPrefix": "oai_dc"})
        assert feed.status_code == 200 and 'status="deleted"' in feed.text  # harvesters drop it

        # The partner changes the record and it is harvested again; a full remap runs: still withheld.
        changed = replace(records[1], datestamp=datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=1),
                          metadata={"oai_dc": records[1].metadata["oai_dc"].replace(
                              "</oai_dc:dc>", "<dc:subject>revised</dc:subject></oai_dc:dc>")})
        server.repository.put(changed)
        harvested = json.loads(ichlinks("harvest", "--full", "--json", cfg=cfg).stdout)
        assert harvested["updated"] == 1
        assert ichlinks("remap", cfg=cfg).returncode == 0
        with Session(engine) as s:
            row = s.get(IchRecord, rid)
            assert row.quarantined and "revised" in row.record
            codes = set(s.scalars(select(Diagnostic.code).where(Diagnostic.raw_id == row.raw_id)))
            assert "suppressed" in codes
        assert rid not in searchable_ids(cfg)

        lifted = ichlinks("suppressions", "remove", rid, cfg=cfg)
        assert lifted.returncode == 0 and "no longer suppressed" in lifted.stdout
        assert rid in searchable_ids(cfg)
        assert client.get(f"/api/records/{rid}").json()["published"] is True
        assert json.loads(ichlinks("record", KEY, "--json", cfg=cfg).stdout)[0]["verdict"] == "searchable"
        again = ichlinks("suppressions", "remove", rid, cfg=cfg)
        assert again.returncode == 1 and "is not suppressed" in again.stderr
        assert json.loads(ichlinks("suppressions", "list", "--json", cfg=cfg).stdout) == []
    finally:
        engine.dispose()


def test_suppressing_without_the_index_leaves_the_change_pending(store_url: str, oai_server: Any,
                                                                 tmp_path: Path) -> None:
    cfg = write_config(tmp_path, store_url, {"vn-test": oai_server(make_records(3)).base_url})
    assert ichlinks("harvest", cfg=cfg).returncode == 0
    proc = ichlinks("suppressions", "add", KEY, "--reason", REASON, "--no-index", cfg=cfg)
    assert proc.returncode == 0 and "ichlinks index relay" in proc.stdout
    engine = open_store(store_url)
    with Session(engine) as s:
        pending = list(s.scalars(select(Outbox.action).where(Outbox.record_id == record_id("vn-test", KEY))))
    engine.dispose()
    assert pending == ["delete"]
    assert record_id("vn-test", KEY) in searchable_ids(cfg)  # until the relay runs
    assert ichlinks("index", "relay", cfg=cfg).returncode == 0
    assert record_id("vn-test", KEY) not in searchable_ids(cfg)


def test_refusals_name_the_problem(store_url: str, oai_server: Any, tmp_path: Path) -> None:
    server = oai_server(make_records(3))
    cfg = write_config(tmp_path, store_url, {"vn-a": server.base_url, "vn-b": server.base_url})
    assert ichlinks("harvest", cfg=cfg).returncode == 0

    no_reason = ichlinks("suppressions", "add", KEY, "--reason", "  ", "--source", "vn-a", cfg=cfg)
    assert no_reason.returncode == 1 and "give the reason" in no_reason.stderr
    both = ichlinks("suppressions", "add", KEY, "--reason", REASON, cfg=cfg)
    assert both.returncode == 1 and "several sources (vn-a, vn-b)" in both.stderr
    unknown = ichlinks("suppressions", "add", "oai:nowhere:1", "--reason", REASON, cfg=cfg)
    assert unknown.returncode == 1 and "no stored record 'oai:nowhere:1'" in unknown.stderr

    engine = open_store(store_url)
    try:
        assert acquire_lease(engine, lease_name("vn-a"), "a-running-harvest", 60)
        busy = ichlinks("suppressions", "add", KEY, "--reason", REASON, "--source", "vn-a", cfg=cfg)
        assert busy.returncode == 1 and "vn-a is being harvested now" in busy.stderr
        release_lease(engine, lease_name("vn-a"), "a-running-harvest")
    finally:
        engine.dispose()
    assert json.loads(ichlinks("suppressions", "list", "--json", cfg=cfg).stdout) == []
    only_a = ichlinks("suppressions", "add", KEY, "--reason", REASON, "--source", "vn-a", cfg=cfg)
    assert only_a.returncode == 0, only_a.stderr
    ids = searchable_ids(cfg)
    assert record_id("vn-a", KEY) not in ids and record_id("vn-b", KEY) in ids
