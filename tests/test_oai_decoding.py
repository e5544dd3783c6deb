"""Charset choice (BOM > declaration > HTTP charset > UTF-8) and reported invalid bytes."""

from __future__ import annotations

import codecs

import pytest

from harvester.oai import decoding
from harvester.oai.decoding import decode_body
from harvester.oai.response import parse_response
from test_oai_hostile import codes, page, record, title

HAN_ETHIOPIC = "\u6c11\u4fd7\u82b8\u80fd \u1210\u1308\u122d"


def _page(declaration: str | None, text: str = HAN_ETHIOPIC) -> str:
    prolog = f'<?xml version="1.0" encoding="{declaration}"?>\n' if declaration else ""
    return page(record("oai:x:1", text), record("oai:x:2", "second"), prolog=prolog)


@pytest.mark.parametrize("codec,bom", [("utf-16-le", codecs.BOM_UTF16_LE),
                                       ("utf-16-be", codecs.BOM_UTF16_BE),
                                       ("utf-32-le", codecs.BOM_UTF32_LE),
                                       ("utf-8", codecs.BOM_UTF8)])
def test_byte_order_mark(codec: str, bom: bytes) -> None:
    declared = "UTF-16" if codec.startswith("utf-16") else codec.upper()[:6]
    body = bom + _page(declared).encode(codec)
    response = parse_response(body)
    assert title(response, 0) == HAN_ETHIOPIC
    assert response.diagnostics == ()
    assert decode_body(body).codec == codec


def test_utf16_without_bom_is_recognised_from_its_first_bytes() -> None:
    for codec in ("utf-16-le", "utf-16-be"):
        assert title(parse_response(_page("UTF-16").encode(codec)), 0) == HAN_ETHIOPIC
        assert title(parse_response(_page(None).encode(codec)), 0) == HAN_ETHIOPIC


def test_bom_wins_over_declaration_and_http_charset() -> None:
    body = codecs.BOM_UTF8 + _page("ISO-8859-1").encode("utf-8")
    response = parse_response(body, http_charset="windows-1252")
    assert title(response, 0) == HAN_ETHIOPIC
    assert codes(response.diagnostics) == ["charset-mismatch", "charset-mismatch"]


def test_latin1_declared() -> None:
    body = _page("ISO-8859-1", "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e").encode("latin-1")
    response = parse_response(body)
    assert title(response, 0) == "Caf\u00e9 cr\u00e8me br\u00fbl\u00e9e"
    assert response.diagnostics == ()


def test_declaration_wins_over_a_wrong_http_charset() -> None:
    body = _page("UTF-8").encode("utf-8")
    response = parse_response(body, http_charset="ISO-8859-1")
    assert title(response, 0) == HAN_ETHIOPIC
    assert codes(response.diagnostics) == ["charset-mismatch"]
    assert "ISO-8859-1" in response.diagnostics[0].message


def test_http_charset_used_without_declaration() -> None:
    body = _page(None, "Caf\u00e9").encode("latin-1")
    response = parse_response(body, http_charset="iso-8859-1")
    assert title(response, 0) == "Caf\u00e9"
    assert response.diagnostics == ()
    # without any charset information: UTF-8, and the latin-1 byte is reported
    bare = parse_response(body)
    assert title(bare, 0) == "Caf\ufffd"
    assert codes(bare.records[0].diagnostics) == ["invalid-encoding"]


def test_same_charset_under_other_names_is_no_mismatch() -> None:
    body = _page("utf-8").encode("utf-8")
    assert parse_response(body, http_charset="UTF8").diagnostics == ()
    assert parse_response(body, http_charset='"utf-8"').diagnostics == ()


@pytest.mark.parametrize("declared", ["klingon-1", "rot13", "base64", "utf-7", "unicode_escape"])
def test_unknown_or_refused_declared_charset_falls_back_to_utf8(declared: str) -> None:
    response = parse_response(_page(declared).encode("utf-8"))
    assert title(response, 0) == HAN_ETHIOPIC
    assert "unknown-charset" in codes(response.diagnostics)


def test_utf7_cannot_smuggle_markup() -> None:
    # "+ADw-" is "<" in UTF-7; decoding as UTF-7 would turn text into a tag
    body = _page("UTF-7", "+ADw-script+AD4-").encode("ascii")
    response = parse_response(body)
    assert title(response, 0) == "+ADw-script+AD4-"


def test_fault_positions() -> None:
    body = b"ab\xffcd\xc3(e"
    decoded = decode_body(body)
    assert decoded.text == "ab\ufffdcd\ufffd(e"
    assert [(f.text_offset, f.byte_offset, f.bad_bytes) for f in decoded.faults] == [
        (2, 2, b"\xff"), (5, 5, b"\xc3")]
    assert decoded.utf8 is None


def test_fault_positions_after_a_bom() -> None:
    decoded = decode_body(codecs.BOM_UTF8 + b"a\xffb")
    assert [(f.text_offset, f.byte_offset) for f in decoded.faults] == [(1, 4)]


def test_clean_utf8_body_is_handed_on_as_bytes() -> None:
    body = _page("UTF-8").encode("utf-8")
    assert decode_body(body).utf8 is body


def test_too_many_faults_are_summarised(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(decoding, "MAX_FAULTS", 5)
    decoded = decode_body(b"x" + b"\xff" * 20 + b"y")
    assert decoded.text == "x" + "\ufffd" * 20 + "y"
    assert len(decoded.faults) == 6 and decoded.faults[-1].summary
    assert all(f.summary is None for f in decoded.faults[:5])
