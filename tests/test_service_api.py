"""The JSON API of ``ichlinks serve`` through FastAPI's TestClient, on SQLite and PostgreSQL.

Expected answers come from the backend itself (``/api/search`` must be exactly the search
contract) or from the corpus in ``test_service_support``, never typed in.
"""

from __future__ import annotations

import json
from typing import Any

from test_service_support import Aggregate, aggregate, client_for, corpus  # noqa: F401

from indexer import SearchQuery

KOREAN = "판소리"


def by_key(key: str) -> dict[str, Any]:
    return next(r for r in corpus() if r["oai"]["identifier"].endswith(":" + key))


# -- /api/search -----------------------------------------------------------------------------

CONTRACT_CASES = [
    ({"q": KOREAN}, SearchQuery(q=KOREAN)),
    ({"q": "xoan", "facets": "false"}, SearchQuery(q="xoan", facets=False)),
    ({"countries": ["VN", "KR"], "category": "element", "limit": "2", "offset": "1"},
     SearchQuery(filters={"countries": ["VN", "KR"], "category": ["element"]}, limit=2, offset=1)),
    ({"year_from": "2000", "year_to": "2010", "ich_domains": "performing_arts"},
     SearchQuery(year_from=2000, year_to=2010, filters={"ich_domains": ["performing_arts"]})),
    ({"source": "vn-vicas", "languages": "vi", "media_type": "video"},
     SearchQuery(filters={"source": ["vn-vicas"], "languages": ["vi"], "media_type": ["video"]})),
    ({}, SearchQuery()),
]


def test_search_returns_exactly_the_backend_contract(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    for params, query in CONTRACT_CASES:
        response = client.get("/api/search", params=params)
        assert response.status_code == 200, params
        assert response.headers["content-type"].startswith("application/json")
        expected = json.loads(json.dumps(aggregate.backend.search(query)))
        assert response.json() == expected, params


def test_search_finds_korean_text_and_filters_narrow(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    body = client.get("/api/search", params={"q": KOREAN}).json()
    assert [r["id"] for r in body["results"]] == [by_key("pansori")["id"]]
    vietnam = client.get("/api/search", params={"countries": "VN", "limit": 100}).json()
    expected = {r["id"] for r in corpus() if "VN" in r.get("countries", [])}
    assert {r["id"] for r in vietnam["results"]} == expected and vietnam["total"] == len(expected)


def test_unknown_filter_values_are_no_match_not_errors(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    response = client.get("/api/search", params={"countries": "ZZ", "category": "<script>"})
    assert response.status_code == 200
    assert response.json()["total"] == 0 and response.json()["results"] == []


BAD_INPUT = [
    {"limit": "abc"}, {"limit": "101"}, {"limit": "-1"}, {"offset": "-5"}, {"offset": "1e3"},
    {"offset": "10001"}, {"year_from": "x"}, {"year_to": "99999"}, {"facets": "maybe"},
    {"q": "x" * 501}, {"countries": ["KR"] * 51}, {"source": "s" * 201},
]


def test_bad_input_is_a_422_json_never_a_trace(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    for params in BAD_INPUT:
        response = client.get("/api/search", params=params)
        assert response.status_code == 422, params
        assert response.json()["detail"], params
        assert "Traceback" not in response.text
        assert "x" * 501 not in response.text  # the offending input is not echoed back


def test_query_of_500_chars_is_accepted(aggregate: Aggregate) -> None:
    response = client_for(aggregate).get("/api/search", params={"q": "판" * 500})
    assert response.status_code == 200


def test_search_index_down_is_a_503_json(aggregate: Aggregate) -> None:
    from harvester.service import create_app
    from test_service_support import TestClient

    class Broken:
        def search(self, query: SearchQuery) -> dict[str, Any]:
            raise ConnectionError("index host 10.0.0.7 refused")

        def count(self) -> int:
            raise ConnectionError("index host 10.0.0.7 refused")

        def close(self) -> None:
            pass

    client = TestClient(create_app(aggregate.settings, engine=aggregate.engine, backend=Broken()))
    response = client.get("/api/search", params={"q": "x"})
    assert response.status_code == 503
    assert "10.0.0.7" not in response.text and response.json()["detail"]
    health = client.get("/healthz")
    assert health.status_code == 503
    assert health.json()["store"]["ok"] is True and health.json()["index"]["ok"] is False


# -- /api/records ----------------------------------------------------------------------------

def test_record_has_the_ich_record_with_provenance(aggregate: Aggregate) -> None:
    record = by_key("pansori")
    response = client_for(aggregate).get(f"/api/records/{record['id']}")
    assert response.status_code == 200
    body = response.json()
    assert body["record"] == record
    assert body["record"]["provenance"] == record["provenance"]
    assert body["published"] is True and body["quarantined"] is False and body["deleted"] is False
    assert body["diagnostics"] == [] and body["version"] == 1 and body["id"] == record["id"]


def test_quarantined_record_is_shown_with_its_diagnostics(aggregate: Aggregate) -> None:
    record = by_key("ca-tru")
    diagnostic = {"level": "error", "field": "title", "code": "missing-title", "message": "no title",
                  "value": None}
    aggregate.put(record, quarantined=True, diagnostics=[diagnostic])
    body = client_for(aggregate).get(f"/api/records/{record['id']}").json()
    assert body["quarantined"] is True and body["published"] is False
    assert body["diagnostics"] == [diagnostic] and body["version"] == 2


def test_unknown_record_is_404_and_deleted_is_410(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    missing = client.get("/api/records/kr-ichcap:00000000000000000000")
    assert missing.status_code == 404 and missing.json()["detail"]
    assert client.get("/api/records/" + "x" * 300).status_code == 404
    victim = by_key("ganggangsullae")["id"]
    aggregate.delete(victim)
    gone = client.get(f"/api/records/{victim}")
    assert gone.status_code == 410
    assert gone.json()["id"] == victim and gone.json()["deleted_at"]


# -- /api/sources ----------------------------------------------------------------------------

def test_sources_report_partner_counts_and_last_harvest(aggregate: Aggregate) -> None:
    from sqlalchemy.orm import Session

    from harvester.store.checkpoints import start_run, update_run, utcnow

    aggregate.put(by_key("ca-tru"), quarantined=True)
    aggregate.delete(by_key("nha-nhac")["id"])
    with Session(aggregate.engine) as s, s.begin():
        run = start_run(s, "vn-vicas", "full")
        update_run(s, run, status="ok", ended_at=utcnow())
    rows = {row["source"]: row for row in client_for(aggregate).get("/api/sources").json()}
    assert set(rows) == {"kr-ichcap", "vn-vicas"}
    vn = [r for r in corpus() if r["source"] == "vn-vicas"]
    assert rows["vn-vicas"]["records"] == {"live": len(vn) - 1, "deleted": 1,
                                           "published": len(vn) - 2, "quarantined": 1}
    kr = [r for r in corpus() if r["source"] == "kr-ichcap"]
    assert rows["kr-ichcap"]["records"] == {"live": len(kr), "deleted": 0, "published": len(kr),
                                            "quarantined": 0}
    assert rows["vn-vicas"]["partner"] == {"name": "VICAS Hà Nội", "country": "VN"}
    assert rows["vn-vicas"]["last_harvest"]["status"] == "ok"
    assert rows["vn-vicas"]["last_success_at"] is not None
    assert rows["kr-ichcap"]["last_harvest"] is None and rows["kr-ichcap"]["last_success_at"] is None


def test_openapi_documents_the_api(aggregate: Aggregate) -> None:
    schema = client_for(aggregate).get("/openapi.json").json()
    assert {"/api/search", "/api/records/{record_id}", "/api/sources", "/oai"} <= set(schema["paths"])
    names = {p["name"] for p in schema["paths"]["/api/search"]["get"]["parameters"]}
    assert {"q", "category", "countries", "ich_domains", "source", "languages", "media_type",
            "year_from", "year_to", "facets", "limit", "offset"} <= names
    assert "/api/harvest/{source}" not in schema["paths"]
