"""Hostile and broken responses: nothing is expanded, read or fetched, one bad record stays one.

The small page builders at the top are shared with the other test_oai_* files.
"""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lxml import etree

from harvester.errors import MalformedResponse
from harvester.oai.response import OAIResponse, parse_response

OAI_ROOT = ('<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" '
            'xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">')
DC_OPEN = ('<oai_dc:dc xmlns:oai_dc="http://www.openarchives.org/OAI/2.0/oai_dc/" '
           'xmlns:dc="http://purl.org/dc/elements/1.1/">')
DC = "{http://purl.org/dc/elements/1.1/}"


def record(identifier: str, title: str = "Title", *, metadata: str | None = None,
           status: str = "") -> str:
    """One oai_dc <record>; ``title`` goes in as raw XML text."""
    header_attrs = f' status="{status}"' if status else ""
    body = metadata if metadata is not None else f"{DC_OPEN}<dc:title>{title}</dc:title></oai_dc:dc>"
    return (f"<record><header{header_attrs}><identifier>{identifier}</identifier>"
            f"<datestamp>2024-01-01</datestamp><setSpec>ich</setSpec></header>"
            f"<metadata>{body}</metadata></record>")


def page(*records: str, prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n',
         token: str = "", root: str = OAI_ROOT, verb: str = "ListRecords",
         response_date: str = "2024-01-01T00:00:00Z") -> str:
    root_name = root[1:].split()[0].rstrip(">")
    return (f"{prolog}{root}<responseDate>{response_date}</responseDate>"
            f'<request verb="{verb}" metadataPrefix="oai_dc">http://example.org/oai</request>'
            f"<{verb}>{''.join(records)}{token}</{verb}></{root_name}>")


def title(response: OAIResponse, k: int) -> str | None:
    element = response.records[k].element
    return None if element is None else element.findtext(f".//{DC}title")


def everything(response: OAIResponse) -> str:
    """All text the response exposes, to look for leaked secrets or expansions."""
    parts = [response.response_date or "", response.request_url or ""]
    for r in response.records:
        parts.append(r.xml)
        if r.element is not None:
            parts.append(etree.tostring(r.element, encoding="unicode"))
            parts.append("".join(r.element.itertext()))
    return "\n".join(parts)


def codes(diagnostics) -> list[str]:
    return [d.code for d in diagnostics]


def test_billion_laughs_is_inert() -> None:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    prolog = f'<?xml version="1.0"?>\n<!DOCTYPE OAI-PMH [\n{"".join(entities)}\n]>\n'
    body = page(record("oai:x:1", "&lol9;"), record("oai:x:2", "plain"), prolog=prolog).encode()
    response = parse_response(body)
    assert "doctype-removed" in codes(response.diagnostics)
    assert "lollol" not in everything(response)
    assert len(response.records) == 2
    bomb = response.records[0]
    assert bomb.header.identifier == "oai:x:1"
    assert "recovered-parse" in codes(bomb.diagnostics)
    assert all(d.identifier == "oai:x:1" for d in bomb.diagnostics)
    assert response.records[1].diagnostics == ()
    assert title(response, 1) == "plain"


def test_billion_laughs_in_a_page_the_scanner_cannot_follow() -> None:
    entities = ['<!ENTITY lol "lol">'] + [
        f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">' for i in range(1, 10)]
    prolog = f'<?xml version="1.0"?>\n<!DOCTYPE OAI-PMH [\n{"".join(entities)}\n]>\n'
    text = page(record("oai:x:1", "&lol9;"), prolog=prolog, response_date="&lol9;")
    response = parse_response(text.replace("</responseDate>", "</responseDat>").encode())
    assert {"recovered-parse", "doctype-removed"} <= set(codes(response.diagnostics))
    assert "lollol" not in everything(response)
    assert [r.header.identifier for r in response.records] == ["oai:x:1"]


def test_external_entity_to_a_local_file_is_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-4711")
    prolog = (f'<?xml version="1.0"?>\n<!DOCTYPE OAI-PMH [<!ENTITY xxe SYSTEM "{secret.as_uri()}">'
              f'<!ENTITY xxe2 SYSTEM "{secret}">]>\n')
    body = page(record("oai:x:1", "&xxe;"), record("oai:x:2", "&xxe2;"), prolog=prolog,
                response_date="&xxe;").encode()
    response = parse_response(body)
    assert "TOP-SECRET" not in everything(response)
    assert "TOP-SECRET" not in repr(response)
    assert [r.header.identifier for r in response.records] == ["oai:x:1", "oai:x:2"]
    assert all("recovered-parse" in codes(r.diagnostics) for r in response.records)


def test_external_dtd_is_neither_fetched_nor_loaded(tmp_path: Path) -> None:
    dtd = tmp_path / "evil.dtd"
    dtd.write_text('<!ENTITY leak "DTD-SECRET-0815">')
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(8)
    port = listener.getsockname()[1]
    try:
        prologs = [
            f'<!DOCTYPE OAI-PMH SYSTEM "http://127.0.0.1:{port}/evil.dtd">',
            f'<!DOCTYPE OAI-PMH PUBLIC "-//X//Y" "http://127.0.0.1:{port}/evil.dtd">',
            f'<!DOCTYPE OAI-PMH [<!ENTITY % ext SYSTEM "http://127.0.0.1:{port}/p.dtd"> %ext;]>',
            f'<!DOCTYPE OAI-PMH SYSTEM "{dtd.as_uri()}">',
            f'<!DOCTYPE OAI-PMH [<!ENTITY % ext SYSTEM "{dtd.as_uri()}"> %ext;]>',
        ]
        for doctype in prologs:
            body = page(record("oai:x:1", "&leak;"), prolog=doctype + "\n").encode()
            response = parse_response(body)
            assert "DTD-SECRET" not in everything(response)
            assert "doctype-removed" in codes(response.diagnostics)
        listener.setblocking(False)
        with pytest.raises(BlockingIOError):  # nobody ever connected
            listener.accept()
    finally:
        listener.close()


def test_nul_bytes_and_references_to_them_are_removed_and_reported() -> None:
    body = page(record("oai:x:1", "a\x00b&#0;c &amp; &lt;tag&gt; &#x1F; d\x00\x00e"),
                record("oai:x:2", "clean &amp; fine")).encode()
    response = parse_response(body)
    first = response.records[0]
    assert title(response, 0) == "abc & <tag>  de"
    assert "\x00" not in first.xml and "&#0;" not in first.xml
    assert "&amp; &lt;tag&gt;" in first.xml  # escapes after a removal survive (sickle loses them)
    assert sorted(codes(first.diagnostics)) == ["illegal-char-ref", "illegal-char-ref",
                                                "illegal-xml-char", "illegal-xml-char"]
    messages = " | ".join(d.message for d in first.diagnostics)
    assert "U+0000" in messages and "U+001F" in messages and "offset" in messages
    assert response.records[1].diagnostics == ()
    assert title(response, 1) == "clean & fine"
    assert response.diagnostics == ()


def test_lying_declaration_utf16_in_utf8_bytes() -> None:
    body = page(record("oai:x:1", "\u7f8e\u8853"),
                prolog='<?xml version="1.0" encoding="UTF-16"?>\n').encode("utf-8")
    response = parse_response(body)
    assert "charset-mismatch" in codes(response.diagnostics)
    assert title(response, 0) == "\u7f8e\u8853"


def test_lying_declaration_utf8_over_latin1_bytes_marks_only_that_record() -> None:
    text = page(record("oai:x:1", "plain"), record("oai:x:2", "caf\u00e9 cr\u00e8me"),
                record("oai:x:3", "plain"))
    response = parse_response(text.encode("latin-1"))
    bad = response.records[1]
    assert codes(bad.diagnostics) == ["invalid-encoding", "invalid-encoding"]
    assert "byte offset" in bad.diagnostics[0].message and "b'\\xe9'" in bad.diagnostics[0].message
    assert title(response, 1) == "caf\ufffd cr\ufffdme"
    assert response.records[0].diagnostics == () and response.records[2].diagnostics == ()
    assert response.diagnostics == ()


def test_invalid_utf8_in_a_record_and_in_the_envelope() -> None:
    raw = page(record("oai:x:1", "ok"), record("oai:x:2", "AAA"), response_date="2024-01-01ZZZ")
    body = raw.encode().replace(b"AAA", b"A\xff\xfeA").replace(b"ZZZ", b"\xc3(")
    response = parse_response(body, http_charset="utf-8")
    assert codes(response.records[1].diagnostics) == ["invalid-encoding"] * 2
    assert response.records[0].diagnostics == ()
    assert codes(response.diagnostics) == ["invalid-encoding"]  # the one in <responseDate>
    assert response.response_date == "2024-01-01\ufffd("
    offset = body.index(b"\xff")
    assert f"byte offset {offset}" in response.records[1].diagnostics[0].message


def test_deep_nesting_fails_only_its_own_record() -> None:
    deep = "<a>" * 5000 + "x" + "</a>" * 5000
    body = page(record("oai:x:1"), record("oai:x:2", deep), record("oai:x:3")).encode()
    response = parse_response(body)
    failed = response.records[1]
    assert failed.element is None and failed.error
    assert failed.header.identifier == "oai:x:2"  # taken from the text by regex
    assert failed.header.sets == ("ich",) and failed.header.datestamp == "2024-01-01"
    assert "unparseable-record" in codes(failed.diagnostics)
    assert failed.xml.count("<a>") == 5000  # the text is still stored as received
    assert [r.error for r in (response.records[0], response.records[2])] == [None, None]
    assert title(response, 2) == "Title"


def test_unparseable_record_without_identifier_is_named_by_hash() -> None:
    deep = "<a>" * 3000 + "</a>" * 3000
    body = page(record("oai:x:1"), f"<record><metadata>{deep}</metadata></record>").encode()
    response = parse_response(body)
    failed = response.records[1]
    expected = "urn:ichlinks:unparsed:" + hashlib.sha256(failed.xml.encode("utf-8")).hexdigest()
    assert failed.header.identifier == expected
    assert {"missing-identifier", "unparseable-record"} <= set(codes(failed.diagnostics))
    assert all(d.identifier == expected for d in failed.diagnostics)


def test_parsed_record_without_identifier() -> None:
    body = page(f"<record><header><datestamp>2024-01-01</datestamp></header>"
                f"<metadata>{DC_OPEN}<dc:title>t</dc:title></oai_dc:dc></metadata></record>").encode()
    rec = parse_response(body).records[0]
    assert rec.element is not None and rec.error is None
    assert rec.header.identifier.startswith("urn:ichlinks:no-identifier:")
    assert codes(rec.diagnostics) == ["missing-identifier"]
    assert rec.diagnostics[0].level == "error"


def test_bad_markup_in_one_record_is_recovered_there_only() -> None:
    body = page(record("oai:x:1", "fish & chips"), record("oai:x:2", "a &nbsp; b"),
                record("oai:x:3", "fine")).encode()
    response = parse_response(body)
    assert [codes(r.diagnostics) for r in response.records] == [
        ["recovered-parse"], ["recovered-parse"], []]
    assert all(r.element is not None for r in response.records)
    assert "fish" in title(response, 0)
    assert response.diagnostics == ()


@pytest.mark.parametrize("body", [
    b"", b"   \n ", b"not xml at all",
    b"<!DOCTYPE html><html><head><title>502 Bad Gateway</title></head>"
    b"<body><h1>Bad Gateway</h1><br></body></html>",
    b"<html><body>Service Unavailable</body></html>",
    b'<?xml version="1.0"?><rss version="2.0"><channel></channel></rss>',
    b"\xff\xfe\x00\x00garbage",
])
def test_not_oai_pmh_raises_malformed_with_the_body(body: bytes) -> None:
    with pytest.raises(MalformedResponse) as info:
        parse_response(body)
    assert info.value.body == body
    assert info.value.__cause__ is None  # refused on purpose, not by an unexpected crash


def test_truncated_page_raises_instead_of_ending_the_list() -> None:
    full = page(record("oai:x:1"), record("oai:x:2"),
                token='<resumptionToken cursor="0">next</resumptionToken>').encode()
    for cut in (30, len(full) // 2, full.index(b"<resumptionToken") + 5, len(full) - 3):
        with pytest.raises(MalformedResponse):
            parse_response(full[:cut])


def test_unbalanced_envelope_falls_back_to_a_recovering_page_parse() -> None:
    text = page(record("oai:x:1", "one"), record("oai:x:2", "two"))
    text = text.replace("</responseDate>", "</responseDat>")
    response = parse_response(text.encode())
    assert "recovered-parse" in codes(response.diagnostics)
    assert [r.header.identifier for r in response.records] == ["oai:x:1", "oai:x:2"]
    assert [title(response, k) for k in (0, 1)] == ["one", "two"]
    assert all("recovered-parse" in codes(r.diagnostics) for r in response.records)
    standalone = etree.fromstring(response.records[1].xml)
    assert standalone.findtext(f".//{DC}title") == "two"


GOOD_PAGE = page(record("oai:x:1", "caf\u00e9 &amp; \u6c11\u4fd7"), record("oai:x:2", "two"),
                 token='<resumptionToken cursor="0" completeListSize="9">tok</resumptionToken>'
                 ).encode("utf-8")


def _only_malformed_or_response(body: bytes) -> None:
    try:
        result = parse_response(body)
    except MalformedResponse as exc:
        assert exc.__cause__ is None, f"unexpected crash: {exc.__cause__!r}"
        return
    assert isinstance(result, OAIResponse)
    for r in result.records:
        assert (r.element is None) == (r.error is not None)
        assert r.header.identifier


@settings(max_examples=150, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=400))
def test_fuzz_arbitrary_bytes(body: bytes) -> None:
    _only_malformed_or_response(body)


@settings(max_examples=250, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(0, len(GOOD_PAGE)), st.binary(min_size=0, max_size=6),
                          st.integers(0, 4)), min_size=1, max_size=4))
def test_fuzz_damaged_page(edits: list[tuple[int, bytes, int]]) -> None:
    body = bytearray(GOOD_PAGE)
    for at, insert, delete in edits:
        body[at:at + delete] = insert
    _only_malformed_or_response(bytes(body))


def test_parse_errors_do_not_leak_into_the_next_document() -> None:
    from harvester.oai.safe_xml import parse_text
    assert parse_text("<a>" * 3000 + "</a>" * 3000).error  # a resource limit: refused
    after = parse_text("<a><b>x</bb></a>")  # a plain mismatch: recovered, not refused
    assert after.element is not None and after.recovered
    assert all("depth" not in p for p in after.problems)
    clean = parse_text("<a/>")
    assert clean.element is not None and not clean.recovered and clean.problems == ()


def test_threads_get_the_same_results() -> None:
    from concurrent.futures import ThreadPoolExecutor
    bodies = [page(record(f"oai:t:{i}", "ok" if i % 3 else "bad & worse"),
                   record(f"oai:u:{i}", "<a>" * (300 if i % 4 == 0 else 3) + "</a>" * (300 if i % 4 == 0 else 3))
                   ).encode() for i in range(24)]

    def summary(body: bytes) -> list[tuple[str, tuple[str, ...], bool]]:
        return [(r.header.identifier, tuple(codes(r.diagnostics)), r.error is None)
                for r in parse_response(body).records]
    expected = [summary(b) for b in bodies]
    with ThreadPoolExecutor(4) as pool:
        assert list(pool.map(summary, bodies * 3)) == expected * 3
    assert {e[0][1] for e in expected} == {(), ("recovered-parse",)}
    assert {e[1][2] for e in expected} == {True, False}
