"""The whole chain: a partner's OAI-PMH feed -> ``run_harvest`` (harvest, crosswalk, index relay)
-> the service -> its own ``/oai``, on SQLite and PostgreSQL.

Here the ICH rows are written by the real crosswalk stage, so this checks that the store's
OAI-PMH bookkeeping (migration 0002's triggers) follows what production code writes, and
that ``create_app(settings)`` opens the store and the index by itself.
"""

from __future__ import annotations

from datetime import datetime, timezone
from pathlib import Path
from types import MappingProxyType
from typing import Any

from oai_fixtures import make_records, parse_oai
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session
from test_oai_reexposure import NS, PREFIX, ids_of, list_all
from test_service_support import TestClient

from harvester.config import Partner, SearchConfig, Settings, SourceConfig
from harvester.pipeline import run_harvest
from harvester.service import create_app
from harvester.store.models import IchRecord

UTC = timezone.utc


def chain_settings(store: Engine, server: Any, tmp_path: Path) -> Settings:
    source = SourceConfig(name="partner", url=server.base_url, retries=2, max_backoff_s=0.05,
                          timeout_s=10.0, partner=Partner(name="Test partner", country="KR"))
    return Settings(store=store.url.render_as_string(hide_password=False),
                    sources=MappingProxyType({"partner": source}),
                    search=SearchConfig(backend="embedded", path=str(tmp_path / "index")))


def published(store: Engine) -> dict[str, dict[str, Any]]:
    import json

    with Session(store) as s:
        return {r.id: json.loads(r.record) for r in s.scalars(
            select(IchRecord).where(IchRecord.deleted.is_(False), IchRecord.quarantined.is_(False)))}


def test_partner_to_aggregate_to_oai(store: Engine, oai_server: Any, tmp_path: Path) -> None:
    server = oai_server(make_records(12), page_size=5)
    settings = chain_settings(store, server, tmp_path)
    [result] = run_harvest(settings, ["partner"])
    assert result.status == "ok", result.error
    records = published(store)
    assert len(records) == 12

    app = create_app(settings, oai_page_size=5, oai_visibility_lag_s=0)
    with TestClient(app) as client:
        listed = list_all(client, "ListRecords", metadataPrefix="ich")
        assert sorted(ids_of(listed)) == sorted(records)
        search = client.get("/api/search", params={"limit": 0}).json()
        assert search["total"] == 12
        country = next(c for r in records.values() for c in r.get("countries", []))
        in_country = {rid for rid, r in records.items() if country in r.get("countries", [])}
        assert set(ids_of(list_all(client, set=f"country:{country}", metadataPrefix="oai_dc"))) == in_country

        # The partner deletes one record of that country; the next harvest passes it on.
        victim_id = next(iter(sorted(in_country)))
        victim_oai = records[victim_id]["oai"]["identifier"]
        server.repository.delete(victim_oai, datetime.now(UTC))
        [again] = run_harvest(settings, ["partner"])
        assert again.status == "ok" and again.deleted == 1, again.as_json()
        in_set = list_all(client, set=f"country:{country}", metadataPrefix="oai_dc")
        assert ids_of(in_set, deleted=True) == [victim_id]
        assert sorted(ids_of(in_set, deleted=False)) == sorted(in_country - {victim_id})
        gone = parse_oai(client.get("/oai", params={"verb": "GetRecord", "metadataPrefix": "ich",
                                                    "identifier": PREFIX + victim_id}).content)
        assert gone.find(".//oai:header", NS).get("status") == "deleted"
        assert client.get(f"/api/records/{victim_id}").status_code == 410
        assert client.get("/api/search", params={"limit": 0}).json()["total"] == 11
