"""parse_response against every captured real-world response in ../shared/samples/oai.

The expectations below are transcribed from the samples' INDEX.md (verb, counts, deleted
records, resumption token, error codes), not taken from the parser's output.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from lxml import etree

from harvester.oai.response import Header, OAIResponse, RawRecord, ResumptionToken, parse_response

SAMPLES = Path(__file__).resolve().parents[1].parent / "shared" / "samples" / "oai"

# file: (verb element, records, headers, sets, deleted, token, error codes)
# token: None = no <resumptionToken>; a str = its exact value; True = present, value not pinned;
#        a tuple = (value or True, cursor, completeListSize, expirationDate)
EXPECTED: dict[str, tuple] = {
    "phpoaipmh__BadResponseNonExistentVerb.xml": (None, 0, 0, 0, 0, None, ["badVerb"]),
    "arXivOAIHarvester__ErrorResponseBadArgument.xml": (None, 0, 0, 0, 0, None, ["badArgument"]),
    "arXivOAIHarvester__ErrorResponseBadVerb.xml": (None, 0, 0, 0, 0, None, ["badVerb"]),
    "arXivOAIHarvester__ErrorResponseIdDoesNotExist.xml": (None, 0, 0, 0, 0, None, ["idDoesNotExist"]),
    "invenio-oaiharvester__sample_empty_response.xml": (None, 0, 0, 0, 0, None, ["noRecordsMatch"]),
    "cessda.cdc.osmh-indexer.cmm__ddi_record_WithError.xml":
        (None, 0, 0, 0, 0, None, ["cannotDisseminateFormat"]),
    "mark-cooper-oai-pmh__err_bad_prefix.xml": (None, 0, 0, 0, 0, None, ["cannotDisseminateFormat"]),
    "oai-pmh-2-js__error-id-does-not-exist.xml": (None, 0, 0, 0, 0, None, ["idDoesNotExist"]),
    "phpoaipmh__GoodResponseIdentify.xml": ("Identify", 0, 0, 0, 0, None, []),
    "pyoai__fake1-00001.xml": ("Identify", 0, 0, 0, 0, None, []),
    "oai-harvest-manager__response-Identify.xml": ("Identify", 0, 0, 0, 0, None, []),
    "Europeana-Cloud__identifyDayGranularity.xml": ("Identify", 0, 0, 0, 0, None, []),
    "mark-cooper-oai-pmh__identify.xml": ("Identify", 0, 0, 0, 0, None, []),
    "ucldc-harvester__oai-fmts-qdc.xml": ("ListMetadataFormats", 0, 0, 0, 0, None, []),
    "plugin-OaipmhHarvester__ListMetadataFormats.xml": ("ListMetadataFormats", 0, 0, 0, 0, None, []),
    "ingestion3__oai-sets.xml": ("ListSets", 0, 0, 50, 0, None, []),
    "pyoai__fake1-00000.xml": ("ListSets", 0, 0, 10, 0, None, []),
    "bulkrax__oai-pmh-ListSets.xml": ("ListSets", 0, 0, 5, 0, None, []),
    "oai-pmh-2-js__list-sets-1.xml":
        ("ListSets", 0, 0, 3, 0, (True, 0, 3, "2026-03-25T02:18:30Z"), []),
    "phpoaipmh__GoodResponseFourPage_1.xml":
        ("ListIdentifiers", 0, 200, 0, 0,
         ("0/200/733/nsdl_dc/null/2012-07-26/null", 0, 733, "2099-01-01T01:30:28Z"), []),
    "phpoaipmh__GoodResponseFourPage_2.xml":
        ("ListIdentifiers", 0, 200, 0, 0, (True, 200, 733, "2099-01-01T01:30:28Z"), []),
    "phpoaipmh__GoodResponseFourPage_3.xml":
        ("ListIdentifiers", 0, 200, 0, 0, (True, 400, 733, "2099-01-01T01:30:28Z"), []),
    # last page: an EMPTY token with attributes = the list is complete
    "phpoaipmh__GoodResponseFourPage_4.xml":
        ("ListIdentifiers", 0, 133, 0, 0, ("", 600, 733, "2099-01-01T01:30:28Z"), []),
    "pyoai__fake1-00003.xml": ("ListIdentifiers", 0, 16, 0, 0, None, []),
    # newlines and indentation around the value
    "metis-framework__oaiListIdentifiers.xml":
        ("ListIdentifiers", 0, 1, 0, 0,
         ("edm:smvk-mm:*:*:50:2932", 50, 2932, "2017-11-15T13:30:03Z"), []),
    # only the whitespace around the value goes; the newline inside it is part of the token
    "oai-pmh-bulk-downloader__response-with-newlines.xml":
        ("ListIdentifiers", 0, 100, 0, 0,
         ("thisValueShouldBeStrippedOfAnyN\newlines", None, None, None), []),
    "invenio-oaiharvester__sample_arxiv_response.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "fatcat__arxivraw_1810.09584.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "hepcrawl__cds-single.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "ucldc-harvester__oai-with-dcterms.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "ckanext-oaipmh__helda.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "pyoai__fake1-00004.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "pyoai__fake2-00000.xml": ("GetRecord", 1, 0, 0, 1, None, []),
    "oai-harvest-manager__response-GetRecord.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "cessda.cdc.osmh-indexer.cmm__ddi_record_1031_deleted.xml": ("GetRecord", 1, 0, 0, 1, None, []),
    "cessda.cdc.osmh-indexer.cmm__ddi_record_1683_with_codebookXmlLag.xml":
        ("GetRecord", 1, 0, 0, 0, None, []),
    "metis-framework__sampleOaiRecord.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "metis-framework__deletedOaiRecord.xml": ("GetRecord", 1, 0, 0, 1, None, []),
    "ingestion3__mt.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "phpoaipmh__GoodResponseSingleRecord.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "oai-pmh-bulk-downloader__getrecord-1.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "HTTP-OAI__getrecord.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "oai-pmh-2-js__get-record-get-record.xml": ("GetRecord", 1, 0, 0, 0, None, []),
    "pyoai__fake1-00005.xml": ("ListRecords", 16, 0, 0, 0, None, []),
    "invenio-oaiharvester__sample_arxiv_response_listrecords_cs.xml":
        ("ListRecords", 46, 0, 0, 0, None, []),
    "invenio-oaiharvester__sample_inspire_response_listrecords.xml":
        ("ListRecords", 2, 0, 0, 0, None, []),
    "hepcrawl__cds-cerncds-hep-ex.xml": ("ListRecords", 2, 0, 0, 0, None, []),
    "hepcrawl__test_1.xml": ("ListRecords", 1, 0, 0, 0, None, []),
    "phpoaipmh__GoodResponseSinglePage.xml": ("ListRecords", 162, 0, 0, 0, None, []),
    "ingestion3__oai-page.xml":
        ("ListRecords", 10, 0, 0, 0,
         ("AoEuYXJuMDAwMDdjMDAwMTE=:botanicals:10:mods", None, 4147, None), []),
    "ucldc-harvester__testOAI-128-records.xml": ("ListRecords", 128, 0, 0, 0, None, []),
    "ucldc-harvester__testOAI-tind.xml":
        ("ListRecords", 5, 0, 0, 0, ("sugoroku___kwbSpr", 0, 155, "2020-01-28T23:14:46Z"), []),
    # DSpace slash-delimited token
    "ucldc-harvester__testOAI-didl.xml":
        ("ListRecords", 1, 0, 0, 0,
         ("0001-01-01T00:00:00Z/9999-12-31T23:59:59Z/hdl_10575_7/didl/100", None, None,
          "2015-05-20T21:30:26Z"), []),
    "ucldc-harvester__testOAI-notitle.xml": ("ListRecords", 2, 0, 0, 0, None, []),
    "oai-harvest-manager__ListRecords-RecordLists-resp0000.xml": ("ListRecords", 8, 0, 0, 0, None, []),
    "conleym-oai-harvester__oai-partial-list-records-response.xml":
        ("ListRecords", 100, 0, 0, 2,
         ("0001-01-01T00:00:00Z/9999-12-31T23:59:59Z//oai_dc/100", None, None,
          "2015-11-03T19:58:42Z"), []),
    "slsp-oaiharvester__chunk_slsp_mongodb_00002.xml": ("ListRecords", 7, 0, 0, 1, None, []),
    "arXivOAIHarvester__ListRecordsResponse.xml":
        ("ListRecords", 6, 0, 0, 0, ("726959|1001", 0, 58011, None), []),
    "Rosetta.OAIPMH-Harvesting__DigitalCommons-oai.xml": ("ListRecords", 19, 0, 0, 0, None, []),
    # Copac: the value is on its own line and holds escaped "&"s
    "plugin-OaipmhHarvester__ListRecords.xml":
        ("ListRecords", 1, 0, 0, 0,
         ("&set=Sound&metadataPrefix=oai%5Fdc&startRecord=200", 0, 122197, "2011-07-14T17:15:00Z"),
         []),
    "oai-pmh-2-js__list-records-1.xml":
        ("ListRecords", 3, 0, 0, 0, ("177435798600000", 0, 3, "2026-03-25T02:13:06Z"), []),
    # base64 JSON token, no attributes
    "mark-cooper-oai-pmh__list_records.xml":
        ("ListRecords", 25, 0, 0, 0,
         ("eyJtZXRhZGF0YV9wcmVmaXgiOiJvYWlfZGMiLCJmcm9tIjoiMTk3MC0wMS0wMSAwMDowMDowMCBVVEMiLCJ1bnRp"
          "bCI6IjIwMjUtMTEtMjcgMDI6MTA6MDYgVVRDIiwic3RhdGUiOiJwcm9kdWNpbmdfcmVjb3JkcyIsImxhc3RfZGVs"
          "ZXRlX2lkIjowLCJyZW1haW5pbmdfdHlwZXMiOnsiUmVzb3VyY2UiOjAsIkFyY2hpdmFsT2JqZWN0IjoyNX0sImlz"
          "c3VlX3RpbWUiOjE3NjQyMDk0MDc3MzN9", None, None, None), []),
    # a bare <record> without the envelope
    "nr-oai-pmh-harvester__20_500_11956-3256.xml": (None, 1, 0, 0, 0, None, []),
    "scrapi__addis_ababa.yaml": ("ListRecords", 8, 0, 0, 0, None, []),
    "scrapi__lshtm.yaml": ("ListRecords", 98, 0, 0, 1, None, []),
}


def sample_body(name: str) -> bytes:
    path = SAMPLES / name
    if path.suffix == ".yaml":  # vcrpy cassette
        cassette = yaml.safe_load(path.read_text(encoding="utf-8"))
        body = cassette["interactions"][0]["response"]["body"]["string"]
        return body.encode("utf-8") if isinstance(body, str) else body
    return path.read_bytes()


_CACHE: dict[str, OAIResponse] = {}


def parsed(name: str) -> OAIResponse:
    if name not in _CACHE:
        _CACHE[name] = parse_response(sample_body(name))
    return _CACHE[name]


def test_every_sample_is_covered() -> None:
    on_disk = {p.name for p in SAMPLES.glob("*.xml")} | {p.name for p in SAMPLES.glob("scrapi__*.yaml")}
    assert on_disk == set(EXPECTED)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_sample_matches_index(name: str) -> None:
    verb, n_records, n_headers, n_sets, n_deleted, token, errors = EXPECTED[name]
    response = parsed(name)
    assert response.verb == verb
    assert len(response.records) == n_records
    assert len(response.headers) == n_headers
    assert len(response.sets) == n_sets
    deleted = sum(r.header.deleted for r in response.records) + sum(h.deleted for h in response.headers)
    assert deleted == n_deleted
    assert [code for code, _ in response.errors] == errors
    if token is None:
        assert response.token is None
    else:
        assert isinstance(response.token, ResumptionToken)
        value, attrs = (token, None) if isinstance(token, (str, bool)) else (token[0], token[1:])
        if value is True:
            assert response.token.value and response.token.value == response.token.value.strip()
        else:
            assert response.token.value == value
        if attrs is not None:
            assert (response.token.cursor, response.token.complete_list_size,
                    response.token.expiration_date) == attrs
    # clean real-world samples: nothing repaired, nothing failed
    assert [d.code for d in response.diagnostics] == (
        ["missing-envelope"] if name.startswith("nr-oai-pmh-harvester") else [])
    for record in response.records:
        assert isinstance(record, RawRecord) and isinstance(record.header, Header)
        assert record.error is None and record.element is not None
        assert record.diagnostics == ()


def _full_parse_records(body: bytes) -> list[etree._Element]:
    root = etree.fromstring(body)
    if etree.QName(root).localname == "record":
        return [root]
    return [e for e in root.iter("{*}record")
            if etree.QName(e.getparent()).localname in ("ListRecords", "GetRecord")]


def _c14n(element: etree._Element) -> bytes:
    # exclusive c14n: only namespaces the element visibly uses, so the declarations a
    # standalone copy needs and the ones inherited in the page compare equal
    return etree.tostring(element, method="c14n", exclusive=True)


RECORD_SAMPLES = sorted(name for name, exp in EXPECTED.items() if exp[1])


@pytest.mark.parametrize("name", RECORD_SAMPLES)
def test_stored_xml_is_the_record_standalone(name: str) -> None:
    body = sample_body(name)
    response = parsed(name)
    originals = _full_parse_records(body)
    assert len(originals) == len(response.records)
    page_text = body.decode("utf-8")
    for original, record in zip(originals, response.records):
        standalone = etree.fromstring(record.xml.encode("utf-8"))  # re-parses on its own
        # lxml's c14n of a subelement mis-declares xmlns="" on children, so the original
        # is first serialised to a standalone document of its own
        expected = _c14n(etree.fromstring(etree.tostring(original, with_tail=False)))
        assert _c14n(standalone) == expected
        assert _c14n(record.element) == expected
        # verbatim: everything after the record's start tag is the page's own text
        after_start_tag = record.xml[record.xml.index(">") + 1:]
        assert after_start_tag in page_text
        identifier = original.find("{*}header/{*}identifier")
        assert record.header.identifier == identifier.text.strip()


@pytest.mark.parametrize("name", ["phpoaipmh__GoodResponseFourPage_1.xml", "pyoai__fake1-00003.xml",
                                  "metis-framework__oaiListIdentifiers.xml"])
def test_list_identifiers_headers(name: str) -> None:
    body = sample_body(name)
    root = etree.fromstring(body)
    expected = [h.findtext("{*}identifier").strip() for h in root.iter("{*}header")]
    assert [h.identifier for h in parsed(name).headers] == expected


def test_inherited_namespaces_are_declared_on_the_record() -> None:
    # Tethys declares xmlns:dc and xmlns:oai_dc on the root only
    record = parsed("oai-pmh-2-js__list-records-1.xml").records[0]
    start_tag = record.xml[:record.xml.index(">") + 1]
    assert 'xmlns="http://www.openarchives.org/OAI/2.0/"' in start_tag
    assert 'xmlns:dc="http://purl.org/dc/elements/1.1/"' in start_tag
    assert 'xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/"' in start_tag
    dc = record.element.find(".//{http://purl.org/dc/elements/1.1/}title")
    assert dc is not None and dc.text


def test_single_quoted_root_declarations_are_copied_verbatim() -> None:
    record = parsed("HTTP-OAI__getrecord.xml").records[0]
    assert record.xml.startswith(
        "<record xmlns='http://www.openarchives.org/OAI/2.0/' "
        "xmlns:xsi='http://www.w3.org/2001/XMLSchema-instance'><header>")


def test_han_text_and_tind_double_escape_survive() -> None:
    response = parsed("ucldc-harvester__testOAI-tind.xml")
    xml = "".join(r.xml for r in response.records)
    text = "".join("".join(r.element.itertext()) for r in response.records)
    assert "&amp;#x9332" in xml  # kept literally, never turned into a reference
    assert "&#x9332" in text  # ... which reads as the text "&#x9332", not as 録
    assert any("\u4e00" <= ch <= "\u9fff" for ch in text)  # kanji
    raw = sample_body("ucldc-harvester__testOAI-tind.xml").decode("utf-8")
    han = {ch for ch in raw if "\u4e00" <= ch <= "\u9fff"}
    assert han and han <= set(text)


@pytest.mark.parametrize("name,low,high", [
    ("scrapi__addis_ababa.yaml", 0x1200, 0x137F),  # Ethiopic
    ("scrapi__lshtm.yaml", 0x0590, 0x05FF),  # Hebrew
    ("scrapi__lshtm.yaml", 0x0370, 0x03FF),  # Greek
    ("hepcrawl__cds-cerncds-hep-ex.xml", 0x0370, 0x03FF),  # Greek
])
def test_scripts_survive_unchanged(name: str, low: int, high: int) -> None:
    raw = sample_body(name).decode("utf-8")
    expected = [ch for ch in raw if low <= ord(ch) <= high]
    assert expected
    got = [ch for r in parsed(name).records for ch in r.xml if low <= ord(ch) <= high]
    assert got == expected


def test_envelope_fields() -> None:
    response = parsed("metis-framework__sampleOaiRecord.xml")
    assert response.response_date and response.response_date == response.response_date.strip()
    assert response.request_params["verb"] == "GetRecord"
    assert response.request_url == response.request_url.strip() and response.request_url.startswith("http")
    errors = parsed("arXivOAIHarvester__ErrorResponseIdDoesNotExist.xml")
    assert errors.request_params.get("verb") == "GetRecord"
    assert errors.errors[0][0] == "idDoesNotExist" and errors.errors[0][1]


def test_identify() -> None:
    identify = parsed("Europeana-Cloud__identifyDayGranularity.xml").identify
    assert identify == {
        "repositoryName": "Riksantikvarie\u00e4mbetet",
        "baseURL": "http://kulturarvsdata.se/oaicat-europeana/OAIHandler/default",
        "protocolVersion": "2.0", "earliestDatestamp": "1990-01-01T00:00:00Z",
        "deletedRecord": "persistent", "granularity": "YYYY-MM-DD",
        "compression": ["gzip", "deflate"], "adminEmail": ["mailto:ksamsok@raa.se"]}
    nsdl = parsed("phpoaipmh__GoodResponseIdentify.xml").identify
    assert nsdl["baseURL"] == "http://nsdl.org/oai"
    assert nsdl["granularity"] == "YYYY-MM-DDThh:mm:ssZ"


def test_sets_and_formats() -> None:
    sets = parsed("bulkrax__oai-pmh-ListSets.xml").sets
    assert all(s["setSpec"] and s["setName"] for s in sets)
    root = etree.fromstring(sample_body("bulkrax__oai-pmh-ListSets.xml"))
    assert [s["setSpec"] for s in sets] == [e.text.strip() for e in root.iter("{*}setSpec")]
    formats = parsed("ucldc-harvester__oai-fmts-qdc.xml").formats
    assert "oai_qdc" in [f["metadataPrefix"] for f in formats]
    assert all(set(f) == {"metadataPrefix", "schema", "metadataNamespace"} for f in formats)


def test_ingestion3_sets_descriptions() -> None:
    sets = parsed("ingestion3__oai-sets.xml").sets
    body = sample_body("ingestion3__oai-sets.xml")
    root = etree.fromstring(body)
    described = [s for s in root.iter("{*}set") if s.find("{*}setDescription") is not None]
    assert sum("setDescription" in s for s in sets) == len(described)
