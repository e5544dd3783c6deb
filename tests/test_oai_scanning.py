"""Exact record spans: depth decides, comments/CDATA/PIs/quoted ">" cannot fool the scanner."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lxml import etree

from harvester.oai.response import parse_response
from harvester.oai.scanning import (StructureError, _find_after_lt, namespace_declarations, prolog_end,
                                    scan_page)
from test_oai_hostile import DC_OPEN, OAI_ROOT, codes, page, record, title

MARC = "http://www.loc.gov/MARC21/slim"


def _spans(text: str) -> list[str]:
    layout = scan_page(text)
    return [text[s.start:s.end] for s in layout.records]


def test_marcxml_unprefixed_nested_record() -> None:
    marc = (f'<record xmlns="{MARC}"><leader>00000nam</leader>'
            f'<datafield tag="245"><subfield code="a">record</subfield></datafield></record>')
    recs = [record("oai:x:1", metadata=marc), record("oai:x:2", metadata=marc)]
    text = page(*recs)
    assert _spans(text) == recs
    response = parse_response(text.encode())
    inner = response.records[0].element.find(f".//{{{MARC}}}record")
    assert inner is not None and inner.findtext(f"{{{MARC}}}leader") == "00000nam"


@pytest.mark.parametrize("metadata", [
    f"{DC_OPEN}<!-- </record> --><dc:title>t</dc:title></oai_dc:dc>",
    f"{DC_OPEN}<dc:title><![CDATA[</record><record>]]></dc:title></oai_dc:dc>",
    f"{DC_OPEN}<?php echo '</record>'; ?><dc:title>t</dc:title></oai_dc:dc>",
    f'{DC_OPEN}<dc:title note="a > b" other=\'&lt;/record&gt; x/record>\'>t</dc:title></oai_dc:dc>',
    f"{DC_OPEN}<dc:title>a record of records</dc:title><recordInfo/><x:record xmlns:x='u'/>"
    f"</oai_dc:dc>",
    '<mods xmlns="http://www.loc.gov/mods/v3"><recordInfo><recordOrigin>x</recordOrigin>'
    "</recordInfo></mods>",
    f'<record xmlns="{MARC}"><record><record/></record></record>',
])
def test_tricky_metadata_keeps_spans_exact(metadata: str) -> None:
    recs = [record("oai:x:1", metadata=metadata), record("oai:x:2")]
    text = page(*recs)
    assert _spans(text) == recs
    response = parse_response(text.encode())
    assert [r.header.identifier for r in response.records] == ["oai:x:1", "oai:x:2"]
    assert all(r.diagnostics == () for r in response.records)


def test_comments_and_pis_between_records_and_in_the_envelope() -> None:
    recs = [record("oai:x:1"), record("oai:x:2")]
    text = page(f"<!-- <record> -->{recs[0]}<?pi x?>\n{recs[1]}<![CDATA[ <record> ]]>",
                prolog='<?xml version="1.0"?><?xml-stylesheet href="x.xsl"?><!-- c -->\n')
    assert _spans(text) == recs


def test_ancestor_namespaces_are_inserted_verbatim() -> None:
    root = ("<OAI-PMH xmlns='http://www.openarchives.org/OAI/2.0/' xmlns:dc=\"http://purl.org/dc/elements/1.1/\" "
            "xmlns:oai_dc='http://www.openarchives.org/OAI/2.0/oai_dc/'>")
    rec = ("<record xmlns:dc='http://purl.org/dc/elements/1.1/'><header><identifier>i</identifier>"
           "</header><metadata><oai_dc:dc><dc:title>t</dc:title></oai_dc:dc></metadata></record>")
    layout = scan_page(page(rec, root=root))
    assert layout.records[0].xml == (
        "<record xmlns='http://www.openarchives.org/OAI/2.0/' "
        "xmlns:oai_dc='http://www.openarchives.org/OAI/2.0/oai_dc/'"
        + rec[len("<record"):])
    standalone = etree.fromstring(layout.records[0].xml)
    assert standalone.findtext(".//{http://purl.org/dc/elements/1.1/}title") == "t"


def test_prefixed_oai_record() -> None:
    root = '<oai:OAI-PMH xmlns:oai="http://www.openarchives.org/OAI/2.0/">'
    body = ('<?xml version="1.0"?>' + root + "<oai:responseDate>2024-01-01</oai:responseDate>"
            '<oai:request verb="ListRecords">http://x</oai:request><oai:ListRecords>'
            "<oai:record><oai:header><oai:identifier>oai:p:1</oai:identifier></oai:header>"
            "<oai:metadata><x/></oai:metadata></oai:record>"
            "<oai:resumptionToken>t1</oai:resumptionToken></oai:ListRecords></oai:OAI-PMH>")
    response = parse_response(body.encode())
    assert response.verb == "ListRecords"
    assert [r.header.identifier for r in response.records] == ["oai:p:1"]
    assert response.records[0].xml.startswith('<oai:record xmlns:oai="http://www.openarchives.org/OAI/2.0/">')
    assert response.token.value == "t1"


def test_feed_without_oai_namespace() -> None:
    recs = [record("oai:n:1", status="deleted"), record("oai:n:2", "kept")]
    text = page(*recs, root="<OAI-PMH>",
                token='<resumptionToken completeListSize="2" cursor="x">  abc  </resumptionToken>')
    response = parse_response(text.encode())
    assert [(r.header.identifier, r.header.deleted, r.header.sets) for r in response.records] == [
        ("oai:n:1", True, ("ich",)), ("oai:n:2", False, ("ich",))]
    assert response.records[0].xml == recs[0]  # nothing to inherit
    assert title(response, 1) == "kept"
    assert (response.token.value, response.token.complete_list_size, response.token.cursor) == (
        "abc", 2, None)
    assert codes(response.diagnostics) == ["bad-token-attribute"]


def test_list_identifiers_sets_formats_identify_without_namespace() -> None:
    headers = ('<header status="deleted"><identifier> a </identifier><datestamp>d</datestamp>'
               "<setSpec>s1</setSpec><setSpec>s2</setSpec></header><header><identifier>b</identifier></header>")
    response = parse_response(page(headers, root="<OAI-PMH>", verb="ListIdentifiers",
                                   token="<resumptionToken/>").encode())
    assert [(h.identifier, h.datestamp, h.sets, h.deleted) for h in response.headers] == [
        ("a", "d", ("s1", "s2"), True), ("b", None, (), False)]
    assert response.token.value == "" and response.token.cursor is None
    sets = ("<set><setSpec>ich</setSpec><setName>ICH</setName><setDescription><x>About</x>"
            "<y>it</y></setDescription></set>")
    assert parse_response(page(sets, root="<OAI-PMH>", verb="ListSets").encode()).sets == [
        {"setSpec": "ich", "setName": "ICH", "setDescription": "About it"}]
    formats = ("<metadataFormat><metadataPrefix>oai_dc</metadataPrefix><schema>s</schema>"
               "<metadataNamespace>n</metadataNamespace></metadataFormat>")
    assert parse_response(page(formats, root="<OAI-PMH>", verb="ListMetadataFormats").encode()
                          ).formats == [{"metadataPrefix": "oai_dc", "schema": "s", "metadataNamespace": "n"}]
    identify = ("<repositoryName> R </repositoryName><baseURL>http://x</baseURL><adminEmail>a@x</adminEmail>"
                "<adminEmail>b@x</adminEmail><granularity>YYYY-MM-DD</granularity>")
    info = parse_response(page(identify, root="<OAI-PMH>", verb="Identify").encode()).identify
    assert info["repositoryName"] == "R" and info["adminEmail"] == ["a@x", "b@x"]
    assert info["compression"] == [] and info["earliestDatestamp"] is None


def test_sets_with_a_comment_inside_still_read() -> None:
    sets = "<set><!-- c --><setSpec>a</setSpec><setName>A</setName></set>"
    assert parse_response(page(sets, verb="ListSets").encode()).sets == [{"setSpec": "a", "setName": "A"}]


def test_records_only_under_list_records_or_get_record() -> None:
    text = page(record("oai:x:1"), verb="GetRecord")
    assert len(scan_page(text).records) == 1
    stray = page("<foo>" + record("oai:x:1") + "</foo>")
    assert scan_page(stray).records == ()
    assert parse_response(stray.encode()).records == []


def test_envelope_is_the_page_without_records() -> None:
    token = '<resumptionToken cursor="0">t</resumptionToken>'
    text = page(record("oai:x:1"), record("oai:x:2"), token=token)
    layout = scan_page(text)
    assert layout.envelope == text[text.index("<OAI-PMH"):].replace(record("oai:x:1"), "").replace(
        record("oai:x:2"), "")


@pytest.mark.parametrize("text", [
    OAI_ROOT + "<responseDate>x</responseDat></OAI-PMH>",
    OAI_ROOT + "<ListRecords>" + record("a") + "</ListRecord></OAI-PMH>",
    OAI_ROOT + "<ListRecords>" + record("a")[:-9],
    "no markup",
    OAI_ROOT + "a < b</OAI-PMH>",
])
def test_structure_errors(text: str) -> None:
    with pytest.raises(StructureError):
        scan_page(text)


def test_text_after_the_root_is_ignored_but_reported() -> None:
    body = page(record("oai:x:1")) + "\n<!-- fine -->\n<b>PHP Warning</b>: something\n"
    layout = scan_page(body)
    assert body[layout.trailing_offset:].startswith("<b>PHP")
    response = parse_response(body.encode())
    assert codes(response.diagnostics) == ["trailing-content"]
    assert len(response.records) == 1
    assert scan_page(page(record("oai:x:1")) + "\n<!-- fine -->\n").trailing_offset is None


def test_namespace_declarations_and_prolog() -> None:
    attrs = ' xmlns="a" xmlns:dc=\'b\'  xmlnsx="c" data-xmlns:q="d" xmlns:e = "f"'
    assert namespace_declarations(attrs) == {"xmlns": 'xmlns="a"', "xmlns:dc": "xmlns:dc='b'",
                                             "xmlns:e": 'xmlns:e="f"'}
    prolog = '<?xml version="1.0"?>\n<!-- x -->\n<!DOCTYPE r [<!ENTITY a "<r>">]>\n'
    assert prolog_end(prolog + "<r/>") == len(prolog)


@settings(max_examples=400, deadline=None, database=None)
@given(st.text(alphabet="<!?a-", max_size=120), st.sampled_from("!?"), st.integers(0, 120))
def test_markup_search_by_second_character_agrees_with_find(text: str, char: str, pos: int) -> None:
    """Runs of '!' or '?' not after '<' push it past its miss budget onto the plain search."""
    assert _find_after_lt(text, char, pos) == text.find("<" + char, pos)


def test_record_spans_exact_with_many_bangs_and_question_marks_before_a_comment() -> None:
    """Text full of '?' and '!' before a comment that holds '</record>'."""
    metadata = (DC_OPEN + "<dc:identifier>" + "http://x.example/?id=1&amp;q=?! " * 60
                + "</dc:identifier><!-- </record> --><dc:title>t</dc:title></oai_dc:dc>")
    recs = [record("oai:x:1", metadata=metadata), record("oai:x:2")]
    assert _spans(page(*recs)) == recs
