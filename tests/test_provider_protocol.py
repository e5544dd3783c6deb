"""The OAI-PMH verbs, arguments and errors of harvester.provider.handle, without HTTP."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta, timezone

import pytest
from lxml import etree
from oai_fixtures import OAI_PMH_XSD, make_records, make_repository, parse_oai

from harvester.provider import (DAY_GRANULARITY, OAI_DC, OAI_NAMESPACE, FormatInfo,
                                InMemoryRepository, ProviderRecord, RepositoryInfo, SetInfo,
                                handle)

UTC = timezone.utc
SECRET = b"protocol-test-secret"
NOW = datetime(2025, 6, 1, 12, 30, 45, 123456, tzinfo=UTC)
NS = {"o": OAI_NAMESPACE, "dc": "http://purl.org/dc/elements/1.1/"}
MODS = FormatInfo("mods", "http://www.loc.gov/standards/mods/v3/mods-3-7.xsd",
                  "http://www.loc.gov/mods/v3")


def call(repo: InMemoryRepository, *, page_size: int = 100, now: datetime = NOW,
         **args: str | Sequence[str]) -> etree._Element:
    params: dict[str, Sequence[str]] = {
        k.rstrip("_"): [v] if isinstance(v, str) else v for k, v in args.items()}
    response = handle(params, repo, page_size=page_size, token_secret=SECRET, now=lambda: now)
    assert response.status == 200
    assert response.content_type == "text/xml; charset=utf-8"
    return parse_oai(response.body)


def error_code(root: etree._Element) -> str | None:
    found = root.find("o:error", NS)
    return None if found is None else found.get("code")


def request_attrs(root: etree._Element) -> dict[str, str]:
    return dict(root.find("o:request", NS).attrib)


def identifiers(root: etree._Element) -> list[str]:
    return [e.text for e in root.iterfind(".//o:header/o:identifier", NS)]


def token_element(root: etree._Element) -> etree._Element | None:
    return root.find(".//o:resumptionToken", NS)


def harvest(repo: InMemoryRepository, verb: str = "ListIdentifiers", *, page_size: int,
            now: datetime = NOW, **args: str) -> tuple[list[str], list[etree._Element]]:
    """Follow tokens to the end; returns all identifiers and every page's token element."""
    root = call(repo, page_size=page_size, now=now, verb=verb, metadataPrefix="oai_dc", **args)
    seen: list[str] = []
    tokens: list[etree._Element] = []
    while True:
        assert error_code(root) is None, etree.tostring(root)
        seen.extend(identifiers(root))
        token = token_element(root)
        if token is None:
            return seen, tokens
        tokens.append(token)
        if not token.text:
            return seen, tokens
        root = call(repo, page_size=page_size, now=now, verb=verb, resumptionToken=token.text)


@pytest.fixture
def repo() -> InMemoryRepository:
    return make_repository(make_records(30, deleted_every=5))


# -- the schema used by every assertion here really checks something -------

def test_schema_check_rejects_an_empty_list_and_a_wrong_namespace() -> None:
    empty = (f'<OAI-PMH xmlns="{OAI_NAMESPACE}"><responseDate>2024-01-01T00:00:00Z</responseDate>'
             '<request verb="ListRecords">http://x.test/oai</request><ListRecords/></OAI-PMH>').encode()
    with pytest.raises(AssertionError):
        parse_oai(empty)
    with pytest.raises(AssertionError):
        parse_oai(empty.replace(OAI_NAMESPACE.encode(), b"http://example.org/other/"))
    assert b"OAI-PMH" in OAI_PMH_XSD


# -- Identify ---------------------------------------------------------------

def test_identify_reports_the_repository_in_its_granularity() -> None:
    repo = make_repository(make_records(3, start=datetime(2019, 3, 4, 5, 6, 7, tzinfo=UTC)),
                           granularity=DAY_GRANULARITY, deleted_record="transient")
    response = handle({"verb": ["Identify"]}, repo, token_secret=SECRET, now=lambda: NOW,
                      compression=("gzip", "deflate"), base_url="http://partner.test/oai")
    root = parse_oai(response.body)
    ident = root.find("o:Identify", NS)
    assert ident.findtext("o:repositoryName", namespaces=NS) == "ichLinks test partner"
    assert ident.findtext("o:baseURL", namespaces=NS) == "http://partner.test/oai"
    assert ident.findtext("o:protocolVersion", namespaces=NS) == "2.0"
    assert ident.findtext("o:adminEmail", namespaces=NS) == "oai-admin@ichlinks.test"
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == "2019-03-04"
    assert ident.findtext("o:deletedRecord", namespaces=NS) == "transient"
    assert ident.findtext("o:granularity", namespaces=NS) == "YYYY-MM-DD"
    assert [c.text for c in ident.iterfind("o:compression", NS)] == ["gzip", "deflate"]
    assert root.findtext("o:responseDate", namespaces=NS) == "2025-06-01T12:30:45Z"
    assert request_attrs(root) == {"verb": "Identify"}
    assert root.findtext("o:request", namespaces=NS) == "http://partner.test/oai"


def test_identify_carries_descriptions_and_seconds_earliest_datestamp() -> None:
    oai_identifier = ('<oai-identifier xmlns="http://www.openarchives.org/OAI/2.0/oai-identifier">'
                      "<scheme>oai</scheme><repositoryIdentifier>ichlinks.test</repositoryIdentifier>"
                      "<delimiter>:</delimiter><sampleIdentifier>oai:ichlinks.test:ich-00001"
                      "</sampleIdentifier></oai-identifier>")
    info = RepositoryInfo(name="Ca trù & Hát xoan archive", base_url="http://p.test/oai",
                          admin_emails=("a@p.test", "b@p.test"),
                          earliest_datestamp=datetime(2020, 2, 3, 4, 5, 6, tzinfo=UTC),
                          descriptions=(oai_identifier,))
    root = call(InMemoryRepository(info), verb="Identify")
    ident = root.find("o:Identify", NS)
    assert ident.findtext("o:repositoryName", namespaces=NS) == "Ca trù & Hát xoan archive"
    assert ident.findtext("o:earliestDatestamp", namespaces=NS) == "2020-02-03T04:05:06Z"
    assert [e.text for e in ident.iterfind("o:adminEmail", NS)] == ["a@p.test", "b@p.test"]
    desc = ident.find("o:description/{http://www.openarchives.org/OAI/2.0/oai-identifier}"
                      "oai-identifier", NS)
    assert desc is not None
    assert desc.findtext("{http://www.openarchives.org/OAI/2.0/oai-identifier}repositoryIdentifier") \
        == "ichlinks.test"


def test_identify_with_an_argument_is_bad_argument(repo: InMemoryRepository) -> None:
    root = call(repo, verb="Identify", metadataPrefix="oai_dc")
    assert error_code(root) == "badArgument"
    assert request_attrs(root) == {}


# -- verbs and arguments ------------------------------------------------------

@pytest.mark.parametrize("params", [
    {},
    {"verb": ["Explode"]},
    {"verb": ["identify"]},
    {"verb": ["Identify", "Identify"]},
    {"verb": ["Identify", "ListSets"]},
    {"metadataPrefix": ["oai_dc"]},
])
def test_bad_verb_has_no_request_attributes(repo: InMemoryRepository,
                                            params: Mapping[str, Sequence[str]]) -> None:
    root = parse_oai(handle(params, repo, token_secret=SECRET, now=lambda: NOW).body)
    assert error_code(root) == "badVerb"
    assert request_attrs(root) == {}
    assert root.findtext("o:request", namespaces=NS) == "http://ichlinks.test/oai"


@pytest.mark.parametrize("args", [
    {"verb": "ListRecords"},                                          # missing metadataPrefix
    {"verb": "GetRecord", "identifier": "oai:ichlinks.test:ich-00001"},
    {"verb": "GetRecord", "metadataPrefix": "oai_dc"},
    {"verb": "ListIdentifiers", "metadataPrefix": "oai_dc", "identifier": "x"},  # illegal argument
    {"verb": "ListSets", "metadataPrefix": "oai_dc"},
    {"verb": "ListMetadataFormats", "set": "ich"},
    {"verb": "ListRecords", "metadataPrefix": ["oai_dc", "oai_dc"]},  # repeated argument
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "resumptionToken": "abc"},  # exclusive
    {"verb": "ListIdentifiers", "resumptionToken": "abc", "from": "2024-01-01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-1-1"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01T00:00:00"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01T00:00:00+01:00"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2024-13-01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "2024-02-30"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "until": "yesterday"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "\uff12\uff10\uff12\uff14-01-01"},
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-01-01",
     "until": "2024-02-01T00:00:00Z"},                               # mixed granularity
    {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2024-02-01",
     "until": "2024-01-01"},                                          # from after until
])
def test_bad_argument_has_no_request_attributes(repo: InMemoryRepository,
                                                args: dict[str, str | list[str]]) -> None:
    root = call(repo, **args)
    assert error_code(root) == "badArgument"
    assert request_attrs(root) == {}


def test_seconds_are_too_fine_for_a_day_granularity_repository() -> None:
    repo = make_repository(make_records(5), granularity=DAY_GRANULARITY)
    root = call(repo, verb="ListIdentifiers", metadataPrefix="oai_dc",
                from_="2024-01-01T00:00:00Z")
    assert error_code(root) == "badArgument"
    assert len(identifiers(call(repo, verb="ListIdentifiers", metadataPrefix="oai_dc",
                                from_="2024-01-01"))) == 5


def test_request_echoes_every_argument_escaped(repo: InMemoryRepository) -> None:
    odd = 'oai:x:"quoted" & <angled>\tend'
    root = call(repo, verb="GetRecord", identifier=odd, metadataPrefix="oai_dc")
    assert error_code(root) == "idDoesNotExist"
    assert request_attrs(root) == {"verb": "GetRecord", "identifier": odd, "metadataPrefix": "oai_dc"}


def test_handle_rejects_a_page_size_below_one(repo: InMemoryRepository) -> None:
    with pytest.raises(ValueError):
        handle({"verb": ["Identify"]}, repo, page_size=0, token_secret=SECRET)


# -- ListMetadataFormats --------------------------------------------------------

def test_list_metadata_formats_for_repository_and_item() -> None:
    records = make_records(3)
    records[1] = ProviderRecord(records[1].identifier, records[1].datestamp, records[1].sets,
                                False, {**records[1].metadata, "mods": "<mods xmlns='http://www.loc.gov/mods/v3'/>"})
    repo = make_repository(records, formats=(OAI_DC, MODS))

    def prefixes(root: etree._Element) -> list[str]:
        return [e.text for e in root.iterfind(".//o:metadataPrefix", NS)]

    assert prefixes(call(repo, verb="ListMetadataFormats")) == ["oai_dc", "mods"]
    assert prefixes(call(repo, verb="ListMetadataFormats", identifier=records[0].identifier)) == ["oai_dc"]
    both = call(repo, verb="ListMetadataFormats", identifier=records[1].identifier)
    assert prefixes(both) == ["oai_dc", "mods"]
    assert both.findtext(".//o:metadataFormat[2]/o:metadataNamespace", namespaces=NS) == MODS.namespace
    assert both.findtext(".//o:metadataFormat[2]/o:schema", namespaces=NS) == MODS.schema
    assert request_attrs(both) == {"verb": "ListMetadataFormats", "identifier": records[1].identifier}


def test_list_metadata_formats_errors(repo: InMemoryRepository) -> None:
    assert error_code(call(repo, verb="ListMetadataFormats", identifier="oai:nowhere:1")) == "idDoesNotExist"
    only_mods = make_repository(make_records(2), formats=(MODS,))
    assert error_code(call(only_mods, verb="ListMetadataFormats",
                           identifier=make_records(1)[0].identifier)) == "noMetadataFormats"
    nothing = make_repository(make_records(2), formats=())
    root = call(nothing, verb="ListMetadataFormats")
    assert error_code(root) == "noMetadataFormats"
    assert request_attrs(root) == {"verb": "ListMetadataFormats"}


# -- ListSets -----------------------------------------------------------------

def test_list_sets_with_descriptions(repo: InMemoryRepository) -> None:
    dc = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
          'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:description>Khon &amp; Nora</dc:description>'
          "</oai_dc:dc>")
    repo.add_set(SetInfo("ich:performing-arts", "Performing arts & theatre", dc))
    root = call(repo, verb="ListSets")
    specs = {s.findtext("o:setSpec", namespaces=NS): s for s in root.iterfind(".//o:set", NS)}
    assert set(specs) == {"ich", "ich:craftsmanship", "ich:oral-traditions", "ich:performing-arts"}
    arts = specs["ich:performing-arts"]
    assert arts.findtext("o:setName", namespaces=NS) == "Performing arts & theatre"
    assert arts.findtext(".//dc:description", namespaces=NS) == "Khon & Nora"
    assert token_element(root) is None


def test_list_sets_without_sets_and_with_a_token(repo: InMemoryRepository) -> None:
    flat = make_repository(make_records(3, sets=()))
    assert error_code(call(flat, verb="ListSets")) == "noSetHierarchy"
    assert error_code(call(flat, verb="ListRecords", metadataPrefix="oai_dc", set_="ich")) == "noSetHierarchy"
    root = call(repo, verb="ListSets", resumptionToken="anything")
    assert error_code(root) == "badResumptionToken"
    assert request_attrs(root) == {"verb": "ListSets", "resumptionToken": "anything"}


# -- GetRecord ----------------------------------------------------------------

def test_get_record_returns_header_and_metadata(repo: InMemoryRepository) -> None:
    record = make_records(2)[1]
    root = call(repo, verb="GetRecord", identifier=record.identifier, metadataPrefix="oai_dc")
    rec = root.find("o:GetRecord/o:record", NS)
    assert rec.findtext("o:header/o:identifier", namespaces=NS) == record.identifier
    assert rec.findtext("o:header/o:datestamp", namespaces=NS) == "2024-01-01T01:00:00Z"
    assert [e.text for e in rec.iterfind("o:header/o:setSpec", NS)] == ["ich:craftsmanship"]
    assert rec.find("o:header", NS).get("status") is None
    titles = {t.get("{http://www.w3.org/XML/1998/namespace}lang"): t.text
              for t in rec.iterfind(".//dc:title", NS)}
    assert titles == {"vi": "Không gian văn hóa Cồng chiêng Tây Nguyên", "en": "Space of gong culture"}
    assert rec.findtext(".//dc:description", namespaces=NS) == "Item 1 <vi> inscribed 2002."


def test_get_record_of_a_deleted_record(repo: InMemoryRepository) -> None:
    gone = make_records(5)[4].identifier   # deleted_every=5
    root = call(repo, verb="GetRecord", identifier=gone, metadataPrefix="oai_dc")
    header = root.find("o:GetRecord/o:record/o:header", NS)
    assert header.get("status") == "deleted"
    assert root.find("o:GetRecord/o:record/o:metadata", NS) is None
    hidden = make_repository(make_records(30, deleted_every=5), deleted_record="no")
    assert error_code(call(hidden, verb="GetRecord", identifier=gone, metadataPrefix="oai_dc")) \
        == "idDoesNotExist"


def test_get_record_errors(repo: InMemoryRepository) -> None:
    known = make_records(1)[0].identifier
    root = call(repo, verb="GetRecord", identifier=known, metadataPrefix="marcxml")
    assert error_code(root) == "cannotDisseminateFormat"
    assert request_attrs(root)["metadataPrefix"] == "marcxml"
    assert error_code(call(repo, verb="GetRecord", identifier="oai:nowhere:1", metadataPrefix="oai_dc")) \
        == "idDoesNotExist"
    with_mods = make_repository(make_records(2), formats=(OAI_DC, MODS))
    assert error_code(call(with_mods, verb="GetRecord", identifier=known, metadataPrefix="mods")) \
        == "cannotDisseminateFormat"


def test_metadata_xml_declaration_is_dropped_and_text_escaped() -> None:
    record = ProviderRecord(
        "oai:p.test:a&b<c>\x01", datetime(2024, 5, 5, tzinfo=UTC), ("s",), False,
        {"oai_dc": '<?xml version="1.0" encoding="UTF-8"?>\n<oai_dc:dc '
                   'xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
                   'xmlns:dc="http://purl.org/dc/elements/1.1/"><dc:title>Ok</dc:title></oai_dc:dc>'})
    repo = make_repository([record])
    root = call(repo, verb="ListRecords", metadataPrefix="oai_dc")
    assert identifiers(root) == ["oai:p.test:a&b<c>\ufffd"]
    assert root.findtext(".//dc:title", namespaces=NS) == "Ok"


# -- ListIdentifiers / ListRecords ---------------------------------------------

@pytest.mark.parametrize("page_size", [1, 7, 30, 100])
@pytest.mark.parametrize("verb", ["ListIdentifiers", "ListRecords"])
def test_paging_yields_every_record_once_with_cursor_and_size(repo: InMemoryRepository,
                                                             verb: str, page_size: int) -> None:
    seen, tokens = harvest(repo, verb, page_size=page_size)
    assert seen == [r.identifier for r in make_records(30)]
    pages = -(-30 // page_size)
    assert len(tokens) == (pages if pages > 1 else 0)
    for number, token in enumerate(tokens):
        assert token.get("cursor") == str(number * page_size)
        assert token.get("completeListSize") == "30"
    if tokens:
        assert not tokens[-1].text
        assert tokens[-1].get("expirationDate") is None
        assert all(t.get("expirationDate") == "2025-06-02T12:30:45Z" for t in tokens[:-1])


def test_list_records_marks_deleted_without_metadata(repo: InMemoryRepository) -> None:
    root = call(repo, verb="ListRecords", metadataPrefix="oai_dc")
    records = root.findall("o:ListRecords/o:record", NS)
    deleted = [r for r in records if r.find("o:header", NS).get("status") == "deleted"]
    assert len(records) == 30 and len(deleted) == 6
    assert all(r.find("o:metadata", NS) is None for r in deleted)
    assert all(r.find("o:metadata/{http://www.openarchives.org/OAI/2.0/oai_dc/}dc", NS) is not None
               for r in records if r not in deleted)


def test_deleted_record_no_hides_deleted_records_from_lists_and_counts() -> None:
    repo = make_repository(make_records(30, deleted_every=5), deleted_record="no")
    seen, tokens = harvest(repo, "ListRecords", page_size=7)
    assert seen == [r.identifier for r in make_records(30, deleted_every=5) if not r.deleted]
    assert {t.get("completeListSize") for t in tokens} == {"24"}


def test_sets_select_members_and_descendants() -> None:
    records = make_records(12, sets=("asia:east:korea", "asia:east:japan", "asia:south", "pacific"))
    repo = make_repository(records)
    korea, _ = harvest(repo, page_size=2, set="asia:east:korea")
    assert korea == [r.identifier for r in records[0::4]]
    east, tokens = harvest(repo, page_size=2, set="asia:east")
    assert east == [r.identifier for r in records if r.sets[0].startswith("asia:east:")]
    assert tokens[0].get("completeListSize") == "6"
    asia, _ = harvest(repo, page_size=100, set="asia")
    assert len(asia) == 9
    assert error_code(call(repo, verb="ListIdentifiers", metadataPrefix="oai_dc", set_="asia:ea")) \
        == "noRecordsMatch"


def test_from_and_until_are_inclusive_at_seconds() -> None:
    records = make_records(10, step=timedelta(minutes=30))   # 00:00, 00:30, ... 04:30 on 2024-01-01
    repo = make_repository(records)
    got, _ = harvest(repo, page_size=3, **{"from": "2024-01-01T01:00:00Z",
                                           "until": "2024-01-01T03:00:00Z"})
    assert got == [r.identifier for r in records[2:7]]
    only, _ = harvest(repo, page_size=3, **{"from": "2024-01-01T04:30:00Z"})
    assert only == [records[9].identifier]
    upto, _ = harvest(repo, page_size=3, until="2024-01-01T00:00:00Z")
    assert upto == [records[0].identifier]
    whole_day, _ = harvest(repo, page_size=4, **{"from": "2024-01-01", "until": "2024-01-01"})
    assert len(whole_day) == 10


def test_until_includes_fractions_of_its_last_second() -> None:
    record = ProviderRecord("oai:p.test:frac", datetime(2024, 1, 1, 10, 0, 0, 700000, tzinfo=UTC),
                            (), False, {"oai_dc": make_records(1)[0].metadata["oai_dc"]})
    repo = make_repository([record])
    got, _ = harvest(repo, page_size=5, **{"from": "2024-01-01T10:00:00Z",
                                           "until": "2024-01-01T10:00:00Z"})
    assert got == ["oai:p.test:frac"]


def test_day_granularity_renders_dates_and_pages_through_ties() -> None:
    records = make_records(20, step=timedelta(hours=5))   # several records share each day
    repo = make_repository(records, granularity=DAY_GRANULARITY)
    root = call(repo, verb="ListIdentifiers", metadataPrefix="oai_dc")
    assert root.findtext(".//o:header/o:datestamp", namespaces=NS) == "2024-01-01"
    got, _ = harvest(repo, page_size=3, **{"from": "2024-01-02", "until": "2024-01-03"})
    expected = [r.identifier for r in records
                if datetime(2024, 1, 2, tzinfo=UTC) <= r.datestamp < datetime(2024, 1, 4, tzinfo=UTC)]
    assert got == expected and len(expected) == 10


def test_same_datestamp_records_are_ordered_by_identifier_across_pages() -> None:
    records = make_records(9, step=timedelta(0))
    repo = make_repository(list(reversed(records)))
    got, _ = harvest(repo, page_size=2)
    assert got == sorted(r.identifier for r in records)


def test_no_records_match_and_unknown_format(repo: InMemoryRepository) -> None:
    root = call(repo, verb="ListRecords", metadataPrefix="oai_dc", from_="2030-01-01")
    assert error_code(root) == "noRecordsMatch"
    assert request_attrs(root) == {"verb": "ListRecords", "metadataPrefix": "oai_dc", "from": "2030-01-01"}
    empty = make_repository([])
    assert error_code(call(empty, verb="ListIdentifiers", metadataPrefix="oai_dc")) == "noRecordsMatch"
    assert error_code(call(repo, verb="ListIdentifiers", metadataPrefix="marcxml")) \
        == "cannotDisseminateFormat"


def test_paging_is_stable_while_the_repository_changes() -> None:
    records = make_records(20)
    repo = make_repository(records)
    first = call(repo, page_size=5, verb="ListIdentifiers", metadataPrefix="oai_dc")
    seen = identifiers(first)
    # Meanwhile: a backdated insertion before the position, an update of a delivered
    # record, and the deletion of one not yet delivered.
    repo.put(ProviderRecord("oai:ichlinks.test:backdated", datetime(2023, 6, 1, tzinfo=UTC),
                            (), False, records[0].metadata))
    updated_at = datetime(2024, 3, 1, tzinfo=UTC)
    repo.put(ProviderRecord(records[1].identifier, updated_at, records[1].sets, False,
                            records[1].metadata))
    repo.delete(records[12].identifier, at=updated_at + timedelta(seconds=1))
    token = token_element(first).text
    deleted_seen = []
    while token:
        root = call(repo, page_size=5, verb="ListIdentifiers", resumptionToken=token)
        seen.extend(identifiers(root))
        deleted_seen += [h.findtext("o:identifier", namespaces=NS)
                         for h in root.iterfind(".//o:header[@status='deleted']", NS)]
        token = token_element(root).text
    originals = [r.identifier for r in records]
    assert seen[:5] == originals[:5]
    assert seen[5:] == [i for i in originals[5:] if i != records[12].identifier] + \
        [records[1].identifier, records[12].identifier]
    assert deleted_seen == [records[12].identifier]


# -- resumption tokens ----------------------------------------------------------

def _first_token(repo: InMemoryRepository, verb: str = "ListIdentifiers") -> str:
    root = call(repo, page_size=4, verb=verb, metadataPrefix="oai_dc")
    return token_element(root).text


@pytest.mark.parametrize("mutate", [
    lambda t: t[:-1] + ("A" if t[-1] != "A" else "B"),          # signature changed
    lambda t: ("B" if t[0] != "B" else "C") + t[1:],            # payload changed
    lambda t: t.replace(".", ""),
    lambda t: t + "x",
    lambda t: "",
    lambda t: "0/200/733/nsdl_dc/null/2012-07-26/null",
    lambda t: "Ω." + t.split(".")[1],
])
def test_tampered_tokens_are_bad_resumption_tokens(repo: InMemoryRepository, mutate) -> None:
    token = mutate(_first_token(repo))
    root = call(repo, page_size=4, verb="ListIdentifiers", resumptionToken=token)
    assert error_code(root) == "badResumptionToken"
    assert request_attrs(root) == {"verb": "ListIdentifiers", "resumptionToken": token}


def test_tokens_expire_after_24_hours_and_not_before(repo: InMemoryRepository) -> None:
    token = _first_token(repo)
    almost = call(repo, page_size=4, now=NOW + timedelta(hours=23, minutes=59),
                  verb="ListIdentifiers", resumptionToken=token)
    assert error_code(almost) is None and len(identifiers(almost)) == 4
    late = call(repo, page_size=4, now=NOW + timedelta(hours=24, seconds=1),
                verb="ListIdentifiers", resumptionToken=token)
    assert error_code(late) == "badResumptionToken"


def test_tokens_need_the_same_secret_and_the_same_verb(repo: InMemoryRepository) -> None:
    token = _first_token(repo)
    other = handle({"verb": ["ListIdentifiers"], "resumptionToken": [token]}, repo,
                   token_secret=b"another secret", now=lambda: NOW)
    assert error_code(parse_oai(other.body)) == "badResumptionToken"
    assert error_code(call(repo, page_size=4, verb="ListRecords", resumptionToken=token)) \
        == "badResumptionToken"


def test_token_whose_remaining_records_vanished_ends_with_no_records_match() -> None:
    records = make_records(6)
    repo = make_repository(records, deleted_record="no")
    token = call(repo, page_size=3, verb="ListIdentifiers", metadataPrefix="oai_dc",
                 until="2024-01-01T05:00:00Z").find(".//o:resumptionToken", NS).text
    for record in records[3:]:
        repo.delete(record.identifier, at=datetime(2024, 2, 1, tzinfo=UTC))
    assert error_code(call(repo, page_size=3, verb="ListIdentifiers", resumptionToken=token)) \
        == "noRecordsMatch"


def test_until_stops_before_the_next_second_and_the_next_day() -> None:
    daily = make_records(4, step=timedelta(days=1))           # 2024-01-01 .. 01-04, at midnight
    repo = make_repository(daily, granularity=DAY_GRANULARITY)
    got, _ = harvest(repo, page_size=2, until="2024-01-02")
    assert got == [r.identifier for r in daily[:2]]
    per_second = make_records(4, step=timedelta(seconds=1))
    got, _ = harvest(make_repository(per_second), page_size=2, **{"from": "2024-01-01T00:00:01Z",
                                                                  "until": "2024-01-01T00:00:02Z"})
    assert got == [r.identifier for r in per_second[1:3]]


class UncountedRepository(InMemoryRepository):
    """A store for which counting is too costly, or whose count went stale."""

    def __init__(self, *args: object, counted: int | None = None, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        self.counted = counted

    def count(self, **kwargs: object) -> int | None:  # type: ignore[override]
        return self.counted


def test_complete_list_size_is_left_out_when_unknown_and_never_below_what_was_sent() -> None:
    base = make_repository(make_records(10))
    unknown = UncountedRepository(base.info(), base.formats(), base.sets(), list(base))
    seen, tokens = harvest(unknown, page_size=4)
    assert len(seen) == 10
    assert [t.get("cursor") for t in tokens] == ["0", "4", "8"]
    assert all(t.get("completeListSize") is None for t in tokens)
    stale = UncountedRepository(base.info(), base.formats(), base.sets(), list(base), counted=1)
    seen, tokens = harvest(stale, page_size=4)
    assert len(seen) == 10
    assert [int(t.get("completeListSize")) for t in tokens] == [4, 8, 10]
