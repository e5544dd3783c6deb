"""The provider over real HTTP on 127.0.0.1, spoken to by httpx and by Sickle."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Callable
from datetime import timedelta

import httpx
import pytest
from lxml import etree
from oai_fixtures import (TEST_SECRET, FaultyProviderServer, make_records, make_repository,
                          parse_oai)
from sickle import Sickle, oaiexceptions

from harvester.provider import DAY_GRANULARITY, OAI_NAMESPACE, ProviderServer, accepts_gzip

NS = {"o": OAI_NAMESPACE, "dc": "http://purl.org/dc/elements/1.1/"}
ServerFactory = Callable[..., FaultyProviderServer]


def get(server: ProviderServer, **params: str) -> etree._Element:
    response = httpx.get(server.base_url, params=params)
    assert response.status_code == 200
    return parse_oai(response.content)


def sickle_for(server: ProviderServer) -> Sickle:
    return Sickle(server.base_url, max_retries=0)


# -- HTTP mechanics -------------------------------------------------------------

def test_get_and_post_answer_alike(oai_server: ServerFactory) -> None:
    server = oai_server(make_records(12), page_size=5)
    by_get = httpx.get(server.base_url, params={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    by_post = httpx.post(server.base_url, data={"verb": "ListIdentifiers", "metadataPrefix": "oai_dc"})
    ids = [[h.text for h in parse_oai(r.content).iterfind(".//o:identifier", NS)] for r in (by_get, by_post)]
    assert ids[0] == ids[1] and len(ids[0]) == 5
    token = parse_oai(by_post.content).findtext(".//o:resumptionToken", namespaces=NS)
    follow = httpx.post(server.base_url, data={"verb": "ListIdentifiers", "resumptionToken": token})
    assert len(parse_oai(follow.content).findall(".//o:header", NS)) == 5


def test_post_must_be_a_form(oai_server: ServerFactory) -> None:
    server = oai_server()
    response = httpx.post(server.base_url, content=b'{"verb": "Identify"}',
                          headers={"Content-Type": "application/json"})
    assert response.status_code == 415


def test_any_path_is_an_endpoint_and_names_itself_in_identify(oai_server: ServerFactory) -> None:
    server = oai_server()
    url = server.base_url.replace("/oai", "/partners/kr/oai-pmh")
    root = parse_oai(httpx.get(url, params={"verb": "Identify"}).content)
    assert root.findtext("o:Identify/o:baseURL", namespaces=NS) == url
    assert root.findtext("o:request", namespaces=NS) == url


def test_gzip_only_when_accepted_and_enabled(oai_server: ServerFactory) -> None:
    server = oai_server()
    with httpx.Client() as client:
        zipped = client.get(server.base_url, params={"verb": "ListRecords", "metadataPrefix": "oai_dc"},
                            headers={"Accept-Encoding": "gzip"})
        plain = client.get(server.base_url, params={"verb": "ListRecords", "metadataPrefix": "oai_dc"},
                           headers={"Accept-Encoding": "identity"})
    assert zipped.headers["Content-Encoding"] == "gzip"
    assert "Content-Encoding" not in plain.headers
    assert int(zipped.headers["Content-Length"]) < int(plain.headers["Content-Length"])
    assert zipped.content == plain.content   # httpx undoes the gzip
    identify = get(server, verb="Identify")
    assert [c.text for c in identify.iterfind(".//o:compression", NS)] == ["gzip"]
    no_gzip = oai_server(gzip=False)
    response = httpx.get(no_gzip.base_url, params={"verb": "Identify"}, headers={"Accept-Encoding": "gzip"})
    assert "Content-Encoding" not in response.headers
    assert parse_oai(response.content).find(".//o:compression", NS) is None


def test_raw_gzip_bytes_decompress_to_the_document(oai_server: ServerFactory) -> None:
    server = oai_server()
    with httpx.stream("GET", server.base_url, params={"verb": "Identify"},
                      headers={"Accept-Encoding": "gzip"}) as response:
        raw = b"".join(response.iter_raw())
    parse_oai(gzip.decompress(raw))


@pytest.mark.parametrize("header, expected", [
    ("gzip", True), ("deflate, gzip;q=0.5", True), ("GZIP", True), ("x-gzip", True),
    ("gzip;q=0", False), ("identity", False), ("", False), (None, False),
    ("*", True), ("*;q=0", False), ("br, *;q=0.1", True), ("gzip;q=0, *", False),
])
def test_accept_encoding_parsing(header: str | None, expected: bool) -> None:
    assert accepts_gzip(header) is expected


def test_server_is_a_context_manager_and_frees_its_port() -> None:
    server = ProviderServer(make_repository(make_records(3)), token_secret=TEST_SECRET)
    with pytest.raises(RuntimeError):
        _ = server.base_url
    with server:
        url = server.base_url
        assert httpx.get(url, params={"verb": "Identify"}).status_code == 200
    with pytest.raises(httpx.ConnectError):
        httpx.get(url, params={"verb": "Identify"})


def test_concurrent_harvests_each_get_everything(oai_server: ServerFactory) -> None:
    records = make_records(40, deleted_every=6)
    server = oai_server(records, page_size=7)
    results: dict[int, list[str]] = {}

    def harvest(slot: int) -> None:
        results[slot] = [h.identifier for h in
                         sickle_for(server).ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=False)]

    threads = [threading.Thread(target=harvest, args=(k,)) for k in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert results == {k: [r.identifier for r in records] for k in range(4)}


# -- the six verbs through Sickle -----------------------------------------------

def test_sickle_identify_and_formats_and_sets(oai_server: ServerFactory) -> None:
    server = oai_server(make_records(10), granularity=DAY_GRANULARITY, deleted_record="transient")
    sickle = sickle_for(server)
    identify = sickle.Identify()
    assert identify.repositoryName == "ichLinks test partner"
    assert identify.granularity == "YYYY-MM-DD"
    assert identify.deletedRecord == "transient"
    assert identify.earliestDatestamp == "2024-01-01"
    assert [f.metadataPrefix for f in sickle.ListMetadataFormats()] == ["oai_dc"]
    assert sorted(s.setSpec for s in sickle.ListSets()) == [
        "ich", "ich:craftsmanship", "ich:oral-traditions", "ich:performing-arts"]
    record = sickle.GetRecord(identifier="oai:ichlinks.test:ich-00003", metadataPrefix="oai_dc")
    assert record.header.identifier == "oai:ichlinks.test:ich-00003"
    assert record.metadata["title"] == ["Уртын дуу", "Urtiin duu, traditional long song"]
    assert record.metadata["coverage"] == ["Mongolia"]


@pytest.mark.parametrize("page_size", [1, 7, 100])
def test_sickle_pages_through_exactly_the_full_record_set(oai_server: ServerFactory,
                                                          page_size: int) -> None:
    records = make_records(45, deleted_every=4, step=timedelta(hours=7))
    server = oai_server(records, page_size=page_size)
    harvested = list(sickle_for(server).ListRecords(metadataPrefix="oai_dc", ignore_deleted=False))
    assert [r.header.identifier for r in harvested] == [r.identifier for r in records]
    assert [r.header.deleted for r in harvested] == [r.deleted for r in records]
    live = [r for r in harvested if not r.header.deleted]
    assert all(r.metadata.get("title") for r in live)
    list_requests = [r for r in server.requests if r.params.get("verb") == "ListRecords"]
    assert len(list_requests) == -(-45 // page_size)
    assert all(r.fault is None for r in server.requests)


def test_sickle_selective_harvest_by_set_and_dates(oai_server: ServerFactory) -> None:
    records = make_records(30, step=timedelta(hours=6))   # 2024-01-01 .. 2024-01-08
    server = oai_server(records, page_size=4)
    sickle = sickle_for(server)
    in_set = [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc",
                                                          set="ich:craftsmanship")]
    assert in_set == [r.identifier for r in records if r.sets == ("ich:craftsmanship",)]
    window = [h.identifier for h in sickle.ListIdentifiers(
        metadataPrefix="oai_dc", **{"from": "2024-01-02T00:00:00Z", "until": "2024-01-03T00:00:00Z"})]
    assert window == [r.identifier for r in records[4:9]]
    days = [h.identifier for h in sickle.ListIdentifiers(
        metadataPrefix="oai_dc", **{"from": "2024-01-02", "until": "2024-01-03"})]
    assert days == [r.identifier for r in records[4:12]]


def test_sickle_sees_deleted_records_as_deleted(oai_server: ServerFactory) -> None:
    records = make_records(10, deleted_every=3)
    server = oai_server(records)
    sickle = sickle_for(server)
    record = sickle.GetRecord(identifier=records[2].identifier, metadataPrefix="oai_dc")
    assert record.header.deleted and record.deleted
    assert [h.identifier for h in sickle.ListIdentifiers(metadataPrefix="oai_dc", ignore_deleted=True)] \
        == [r.identifier for r in records if not r.deleted]
    hidden = oai_server(records, deleted_record="no")
    assert len(list(sickle_for(hidden).ListIdentifiers(metadataPrefix="oai_dc"))) == 7


@pytest.mark.parametrize("call, exception", [
    (lambda s: s.GetRecord(identifier="oai:nowhere:1", metadataPrefix="oai_dc"),
     oaiexceptions.IdDoesNotExist),
    (lambda s: s.GetRecord(identifier="oai:ichlinks.test:ich-00001", metadataPrefix="marcxml"),
     oaiexceptions.CannotDisseminateFormat),
    (lambda s: next(s.ListRecords(metadataPrefix="oai_dc", **{"from": "2031-01-01"})),
     oaiexceptions.NoRecordsMatch),
    (lambda s: next(s.ListRecords(metadataPrefix="oai_dc", **{"from": "1st of May"})),
     oaiexceptions.BadArgument),
    (lambda s: next(s.ListRecords(resumptionToken="made-up")), oaiexceptions.BadResumptionToken),
    (lambda s: s.ListMetadataFormats(identifier="oai:nowhere:1"), oaiexceptions.IdDoesNotExist),
    (lambda s: next(iter(s.ListSets(nonsense="1"))), oaiexceptions.BadArgument),
])
def test_sickle_raises_each_protocol_error(oai_server: ServerFactory, call, exception) -> None:
    server = oai_server(make_records(5))
    with pytest.raises(exception):
        call(sickle_for(server))


def test_bad_verb_and_no_set_hierarchy_over_http(oai_server: ServerFactory) -> None:
    server = oai_server(make_records(5, sets=()))
    assert get(server, verb="Harvest").find("o:error", NS).get("code") == "badVerb"
    with pytest.raises(oaiexceptions.NoSetHierarchy):
        list(sickle_for(server).ListSets())


# -- tokens outlive the server -----------------------------------------------------

def test_tokens_work_on_a_new_server_instance_with_the_same_secret(oai_server: ServerFactory) -> None:
    records = make_records(20)
    first = oai_server(records, page_size=8)
    page = get(first, verb="ListIdentifiers", metadataPrefix="oai_dc")
    token = page.findtext(".//o:resumptionToken", namespaces=NS)
    seen = [h.text for h in page.iterfind(".//o:identifier", NS)]
    first.stop()

    restarted = oai_server(records, page_size=8)
    while token:
        page = get(restarted, verb="ListIdentifiers", resumptionToken=token)
        seen += [h.text for h in page.iterfind(".//o:identifier", NS)]
        token = page.findtext(".//o:resumptionToken", namespaces=NS)
    assert seen == [r.identifier for r in records]


def test_tokens_are_refused_by_a_server_with_another_secret(oai_server: ServerFactory) -> None:
    records = make_records(20)
    issuer = oai_server(records, page_size=8)
    token = get(issuer, verb="ListIdentifiers", metadataPrefix="oai_dc").findtext(
        ".//o:resumptionToken", namespaces=NS)
    rotated = oai_server(records, page_size=8, token_secret=b"rotated secret")
    refused = get(rotated, verb="ListIdentifiers", resumptionToken=token)
    assert refused.find("o:error", NS).get("code") == "badResumptionToken"
    assert len(get(issuer, verb="ListIdentifiers", resumptionToken=token).findall(".//o:header", NS)) == 8


def test_base_url_follows_the_host_the_client_used(oai_server: ServerFactory) -> None:
    server = oai_server()
    response = httpx.get(server.base_url, params={"verb": "Identify"},
                         headers={"Host": "partner.example:8080"})
    assert parse_oai(response.content).findtext("o:Identify/o:baseURL", namespaces=NS) \
        == "http://partner.example:8080/oai"
