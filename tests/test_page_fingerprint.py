"""A page's fingerprint is equal exactly when its records are, whatever the envelope says.

The promise ``harvester.store.page_memos`` builds on: two bodies with one fingerprint hold
the same records byte for byte (so the store's rows for one are the rows for the other),
and the envelope cut out of the page still reads as the page's own token, date and verb.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from oai_fixtures import SAMPLES_DIR
from reliability_fixtures import dc_record

from harvester.oai.fingerprint import page_fingerprint
from harvester.oai.response import parse_response

RECORDS = [dc_record(f"oai:x:{i}", title) for i, title in
           enumerate(["Pansori", "판소리", "Хөөмий", "Nōgaku &amp; kyōgen", "Ramlila", "<b>x</b>"])]


def _page(records: list[str], *, date: str = "2025-01-01T00:00:00Z",
          request: str = '<request verb="ListRecords" metadataPrefix="oai_dc">http://x.test/oai</request>',
          token: str | None = '<resumptionToken cursor="0" completeListSize="500">t-1</resumptionToken>',
          root: str = '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">',
          prolog: str = '<?xml version="1.0" encoding="UTF-8"?>\n', between: str = "\n") -> bytes:
    return (f"{prolog}{root}\n<responseDate>{date}</responseDate>\n{request}{between}"
            f"<ListRecords>\n{''.join(records)}\n{token or ''}\n</ListRecords>\n</OAI-PMH>\n"
            ).encode("utf-8")


def _digest(body: bytes, charset: str | None = None) -> str:
    found = page_fingerprint(body, charset)
    assert found is not None, body[:300]
    return found.digest


def _list_records_samples() -> list[Path]:
    found = []
    for path in sorted(Path(SAMPLES_DIR).glob("*.xml")):
        try:
            response = parse_response(path.read_bytes())
        except Exception:
            continue
        if response.verb == "ListRecords" and response.records:
            found.append(path)
    return found


@pytest.mark.parametrize("path", _list_records_samples(), ids=lambda p: p.name)
def test_real_list_pages_are_fingerprinted_and_their_envelope_reads_the_same(path: Path) -> None:
    body = path.read_bytes()
    found = page_fingerprint(body)
    assert found is not None, "every captured ListRecords page has the plain layout"
    whole, envelope = parse_response(body), parse_response(found.envelope)
    assert envelope.verb == "ListRecords" and not envelope.records and not envelope.errors
    assert envelope.token == whole.token
    assert envelope.response_date == whole.response_date
    assert envelope.request_params == whole.request_params
    assert found.records_end - found.records_start == len(body) - len(found.envelope)


def test_there_are_enough_real_pages_to_mean_something() -> None:
    assert len(_list_records_samples()) >= 15


def test_date_request_and_token_do_not_change_it() -> None:
    base = _digest(_page(RECORDS))
    assert _digest(_page(RECORDS, date="2031-12-31T23:59:59Z")) == base
    assert _digest(_page(RECORDS, request='<request verb="ListRecords" resumptionToken="t-0">'
                                          "http://mirror.test/oai?a=1&amp;b=2</request>")) == base
    assert _digest(_page(RECORDS, token='<resumptionToken expirationDate="2030-01-01T00:00:00Z">'
                                        "other</resumptionToken>")) == base
    assert _digest(_page(RECORDS, token='<resumptionToken completeListSize="500"/>')) == base
    assert _digest(_page(RECORDS, token=None)) == base


def test_what_decides_the_records_changes_it() -> None:
    base = _digest(_page(RECORDS))
    assert _digest(_page(RECORDS[:-1])) != base
    assert _digest(_page(list(reversed(RECORDS)))) != base
    assert _digest(_page(RECORDS), "iso-8859-1") != base, "the HTTP charset decides the text"
    declared = '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/" xmlns:dc="urn:other">'
    assert _digest(_page(RECORDS, root=declared)) != base, "inherited namespaces"
    latin = '<?xml version="1.0" encoding="ISO-8859-1"?>\n'
    assert _digest(_page(RECORDS, prolog=latin)) != base


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_any_byte_changed_among_the_records_changes_it(data: st.DataObject) -> None:
    body = _page(RECORDS)
    start = body.index(b"<ListRecords>") + len(b"<ListRecords>")
    end = body.rindex(b"</record>") + len(b"</record>")
    at = data.draw(st.integers(start, end - 1))
    byte = data.draw(st.integers(0, 255).filter(lambda b: b != body[at]))
    changed = body[:at] + bytes([byte]) + body[at + 1:]
    found = page_fingerprint(changed)
    assert found is None or found.digest != _digest(body)


@settings(max_examples=150, deadline=None)
@given(first=st.lists(st.sampled_from(RECORDS), min_size=1, max_size=4),
       second=st.lists(st.sampled_from(RECORDS), min_size=1, max_size=4),
       dates=st.tuples(st.sampled_from(["2025-01-01T00:00:00Z", "2026-02-02", "junk"]),
                       st.sampled_from(["2025-01-01T00:00:00Z", "2027-03-03T03:03:03Z"])),
       tokens=st.tuples(st.sampled_from(["a", "b", ""]), st.sampled_from(["a", "c"])))
def test_equal_fingerprints_mean_equal_records(first: list[str], second: list[str],
                                               dates: tuple[str, str],
                                               tokens: tuple[str, str]) -> None:
    one = _page(first, date=dates[0], token=f"<resumptionToken>{tokens[0]}</resumptionToken>")
    two = _page(second, date=dates[1], token=f"<resumptionToken>{tokens[1]}</resumptionToken>")
    same_records = ([r.xml for r in parse_response(one).records]
                    == [r.xml for r in parse_response(two).records])
    assert (_digest(one) == _digest(two)) == same_records


@pytest.mark.parametrize("body", [
    _page(RECORDS, root='<oai:OAI-PMH xmlns:oai="http://www.openarchives.org/OAI/2.0/">')
    .replace(b"</OAI-PMH>", b"</oai:OAI-PMH>"),
    _page(RECORDS).replace(b"</ListRecords>", b"<!-- page 2 --></ListRecords>"),
    _page(RECORDS).replace(b"</ListRecords>", RECORDS[0].encode() + b"<x/></ListRecords>"),
    _page(RECORDS) + b"<!-- served by x -->",
    _page([]),
    _page(RECORDS).replace(b"ListRecords", b"ListIdentifiers"),
    _page(RECORDS).replace(b"<responseDate>", b"<!-- d --><responseDate>"),
    _page(RECORDS).decode("utf-8").encode("utf-16"),
], ids=["prefixed", "comment-after-token", "markup-after-token", "trailing-comment", "no-records",
        "list-identifiers", "comment-in-envelope", "utf-16"])
def test_other_layouts_get_no_fingerprint(body: bytes) -> None:
    assert page_fingerprint(body) is None


def test_the_envelope_of_a_plain_page_keeps_token_and_date() -> None:
    body = _page(RECORDS, date="2025-05-05T05:05:05Z",
                 token='<resumptionToken cursor="100" completeListSize="500">a&amp;b</resumptionToken>')
    found = page_fingerprint(body)
    assert found is not None
    envelope = parse_response(found.envelope)
    assert envelope.token is not None and envelope.token.value == "a&b"
    assert (envelope.token.cursor, envelope.token.complete_list_size) == (100, 500)
    assert envelope.response_date == "2025-05-05T05:05:05Z"
    assert b"<record>" not in found.envelope


def test_a_token_among_the_records_makes_the_page_not_worth_remembering() -> None:
    plain = _page(RECORDS)
    found = page_fingerprint(plain)
    assert found is not None and found.worth_remembering(plain)
    middle = _page(RECORDS, token=None).replace(
        b"</record>", b"</record><resumptionToken>mid</resumptionToken>", 1)
    assert parse_response(middle).token is not None, "the parser does read it there"
    found = page_fingerprint(middle)
    assert found is not None and not found.worth_remembering(middle)
    assert parse_response(found.envelope).token is None, "which the cut envelope would miss"
