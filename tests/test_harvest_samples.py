"""Harvest the real captured responses (../shared/samples/oai) served byte-for-byte over HTTP.

Each ListRecords sample is the first page; when it carries a resumptionToken, the next page
is only served for *exactly* that token (trimmed of the whitespace some servers wrap it in),
so a harvest that completes proves the token went back unaltered.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml
from oai_fixtures import SAMPLES_DIR, Route, nsdl_four_page_routes, sample_bytes, token_of
from sqlalchemy import select
from sqlalchemy.orm import Session

from harvester.config import Partner, SourceConfig
from harvester.harvest import Harvester
from harvester.oai.client import HostPools, OAIClient
from harvester.oai.response import parse_response
from harvester.store.models import RawRecord

IDENTIFY = "phpoaipmh__GoodResponseIdentify.xml"
END = "invenio-oaiharvester__sample_empty_response.xml"  # noRecordsMatch: an empty last page

# file -> (records in the page, deleted among them), as INDEX.md describes the captures
LIST_RECORDS = {
    "pyoai__fake1-00005.xml": (16, 0),
    "invenio-oaiharvester__sample_arxiv_response_listrecords_cs.xml": (46, 0),
    "invenio-oaiharvester__sample_inspire_response_listrecords.xml": (2, 0),
    "hepcrawl__cds-cerncds-hep-ex.xml": (2, 0),
    "hepcrawl__test_1.xml": (1, 0),
    "phpoaipmh__GoodResponseSinglePage.xml": (162, 0),
    "ingestion3__oai-page.xml": (10, 0),
    "ucldc-harvester__testOAI-128-records.xml": (128, 0),
    "ucldc-harvester__testOAI-tind.xml": (5, 0),
    "ucldc-harvester__testOAI-didl.xml": (1, 0),
    "ucldc-harvester__testOAI-notitle.xml": (2, 0),
    "oai-harvest-manager__ListRecords-RecordLists-resp0000.xml": (8, 0),
    "conleym-oai-harvester__oai-partial-list-records-response.xml": (100, 2),
    "slsp-oaiharvester__chunk_slsp_mongodb_00002.xml": (7, 1),
    "arXivOAIHarvester__ListRecordsResponse.xml": (6, 0),
    "Rosetta.OAIPMH-Harvesting__DigitalCommons-oai.xml": (19, 0),
    "plugin-OaipmhHarvester__ListRecords.xml": (1, 0),
    "oai-pmh-2-js__list-records-1.xml": (3, 0),
    "mark-cooper-oai-pmh__list_records.xml": (25, 0),
    "scrapi__addis_ababa.yaml": (8, 0),
    "scrapi__lshtm.yaml": (98, 1),
}


def body_of(name: str) -> bytes:
    if name.endswith(".yaml"):
        cassette = yaml.safe_load((SAMPLES_DIR / name).read_text(encoding="utf-8"))
        text = cassette["interactions"][0]["response"]["body"]["string"]
        return text.encode("utf-8") if isinstance(text, str) else text
    return sample_bytes(name)


def routes_for(name: str) -> list[Route]:
    body = body_of(name)
    routes = [Route(IDENTIFY, verb="Identify"), Route(body, verb="ListRecords", token=None)]
    token = token_of(body)
    if token:
        routes.append(Route(END, verb="ListRecords", token=token.strip()))
    return routes


@pytest.mark.parametrize("name", sorted(LIST_RECORDS))
def test_real_listrecords_pages_are_stored_exactly(store: Any, canned_server: Any, name: str) -> None:
    expected_records, expected_deleted = LIST_RECORDS[name]
    server = canned_server(routes_for(name))
    src = SourceConfig(name="sample", url=server.base_url, partner=Partner("Sample"), retries=0)
    harvester = Harvester(store, sleep=lambda s: None)
    result = harvester.harvest(src)
    harvester.pools.close()
    assert result.status == "ok", result.error
    page = parse_response(body_of(name))
    with Session(store) as s:
        rows = {r.identifier: r for r in s.scalars(select(RawRecord))}
    assert len(rows) == len({r.header.identifier for r in page.records})
    assert len(page.records) == expected_records
    assert sum(1 for r in page.records if r.header.deleted) == expected_deleted
    last = {rec.header.identifier: rec for rec in page.records}  # a page may repeat an identifier
    for ident, rec in last.items():
        assert rows[ident].xml == rec.xml
        assert rows[ident].deleted == rec.header.deleted
    if token_of(body_of(name)):
        sent = [r.params.get("resumptionToken") for r in server.requests if r.params.get("resumptionToken")]
        assert sent == [token_of(body_of(name)).strip()]


def test_four_page_nsdl_token_chain_is_followed_exactly(canned_server: Any) -> None:
    server = canned_server(nsdl_four_page_routes())
    with HostPools() as pools:
        client = OAIClient(server.base_url, http=pools.client_for(server.base_url), source="nsdl")
        token, headers = None, []
        for _ in range(10):
            page = client.list_page("ListIdentifiers", metadata_prefix="nsdl_dc", token=token)
            headers.extend(page.response.headers)
            token = page.token
            if not token:
                break
    assert len(headers) == 733
    assert len({h.identifier for h in headers}) == 733
    assert not [r for r in server.requests if r.fault]


def test_metis_token_with_newlines_is_trimmed(canned_server: Any) -> None:
    name = "metis-framework__oaiListIdentifiers.xml"
    raw_token = token_of(sample_bytes(name))
    assert raw_token is not None and raw_token != raw_token.strip()
    server = canned_server([Route(name, verb="ListIdentifiers", token=None),
                            Route(END, verb="ListIdentifiers", token=raw_token.strip())])
    with HostPools() as pools:
        client = OAIClient(server.base_url, http=pools.client_for(server.base_url))
        first = client.list_page("ListIdentifiers", metadata_prefix="edm")
        assert first.token == raw_token.strip()
        last = client.list_page("ListIdentifiers", token=first.token)
        assert last.empty


def test_a_base_url_with_its_own_query_keeps_it(store: Any, canned_server: Any) -> None:
    """Some repositories live at index.php?option=oai: the harvester's arguments are added, not swapped in."""
    name = "pyoai__fake1-00005.xml"
    server = canned_server([Route(IDENTIFY, verb="Identify", params={"option": "oai"}),
                            Route(name, verb="ListRecords", token=None, params={"option": "oai"})])
    src = SourceConfig(name="q", url=server.base_url + "?option=oai", partner=Partner("Q"), retries=0)
    harvester = Harvester(store, sleep=lambda s: None)
    result = harvester.harvest(src)
    harvester.pools.close()
    assert result.status == "ok", result.error
    assert result.records == LIST_RECORDS[name][0]
    assert all(r.params.get("option") == "oai" for r in server.requests)


def test_probe_suggests_the_richest_crosswalk_from_real_listmetadataformats(canned_server: Any) -> None:
    from harvester.probe import probe

    server = canned_server([
        Route("mark-cooper-oai-pmh__identify.xml", verb="Identify"),
        Route("ucldc-harvester__oai-fmts-qdc.xml", verb="ListMetadataFormats"),
        Route("bulkrax__oai-pmh-ListSets.xml", verb="ListSets"),
        Route("pyoai__fake1-00005.xml", verb="ListRecords", token=None),
    ])
    report = probe(server.base_url, retries=0)
    assert report["ok"]
    assert report["suggested_mapping"] == "qdc"
    assert report["suggested_metadata_prefix"] == "oai_qdc"
    assert len(report["sets"]) == 5
    assert report["first_page"]["records"] == 16
    assert any("baseURL" in p for p in report["problems"])  # ArchivesSpace's Identify names its own URL
    assert "mapping: qdc" in report["config"]
