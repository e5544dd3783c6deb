"""Illegal XML 1.0 characters and references go; nothing else changes."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harvester.oai.response import parse_response
from harvester.oai.sanitising import (CHAR, REFERENCE, is_legal_code_point,
                                      remove_illegal_characters, utf8_is_clean)
from test_oai_hostile import codes, page, record, title


def test_clean_text_is_returned_as_is() -> None:
    text = "<a>caf\u00e9 &amp; &#233; &#x1F600; \t\r\n</a>"
    result = remove_illegal_characters(text)
    assert result.text is text and result.removals == ()


@pytest.mark.parametrize("dirty,clean", [
    ("a\x01b", "ab"),
    ("a\x00\x00\x0bb", "ab"),
    ("a\ufffeb\uffffc", "abc"),
    ("a&#1;b", "ab"),
    ("a&#x1F;b&#X1F;c", "ab&#X1F;c"),  # "&#X" is not a character reference at all
    ("a&#xFFFE;b&#xD800;c&#0;d", "abcd"),
    ("a&#1114112;b&#x110000;c", "abc"),  # beyond U+10FFFF
    ("a&#99999999999999999999;b", "ab"),
    ("a&#x0000000041;b", "a&#x0000000041;b"),  # leading zeros: still "A", legal
])
def test_removals(dirty: str, clean: str) -> None:
    assert remove_illegal_characters(dirty).text == clean


def test_escapes_and_legal_references_survive_next_to_removals() -> None:
    text = "\x01&amp; &lt; &gt; &quot; &#38; &#x3C; &#9; &amp;#1; \x02"
    assert remove_illegal_characters(text).text == "&amp; &lt; &gt; &quot; &#38; &#x3C; &#9; &amp;#1; "


def test_references_in_cdata_comments_and_pis_are_text() -> None:
    text = "<a><![CDATA[&#1;\x01]]><!-- &#1;\x02 --><?pi &#1;\x03?>&#1;</a>"
    result = remove_illegal_characters(text)
    assert result.text == "<a><![CDATA[&#1;]]><!-- &#1; --><?pi &#1;?></a>"
    assert [(r.kind, r.code_points) for r in result.removals] == [
        (CHAR, (1,)), (CHAR, (2,)), (CHAR, (3,)), (REFERENCE, (1,))]


def test_removal_offsets_and_shifted_positions() -> None:
    text = "ab\x01\x02cd&#1;ef"
    result = remove_illegal_characters(text)
    assert result.text == "abcdef"
    assert [(r.offset, r.text) for r in result.removals] == [(2, "\x01\x02"), (6, "&#1;")]
    assert result.removal_positions() == [2, 4]
    for original, char in enumerate(text):
        if char in "abcdef" and text.count(char) == 1:
            assert result.text[result.shifted(original)] == char


@settings(max_examples=200, deadline=None, database=None)
@given(st.lists(st.one_of(st.characters(codec="utf-8"), st.sampled_from(
    ["&#1;", "&#x9;", "&#xFFFF;", "&amp;", "\x00", "\x0b", "\ufffe", "\uffff", "\ufffd",
     "\uffbe", "\uefbf"])), max_size=40))
def test_property_only_illegal_material_goes(pieces: list[str]) -> None:
    text = "".join(pieces).replace("<", "")  # no CDATA, comments or PIs in play
    result = remove_illegal_characters(text)
    assert all(is_legal_code_point(ord(c)) for c in result.text)
    assert "".join(r.text for r in result.removals) == "".join(
        p for p in pieces if p in ("&#1;", "&#xFFFF;") or (len(p) == 1 and not is_legal_code_point(ord(p)))
    ).replace("<", "")
    # the fast byte check agrees with the full pass
    assert utf8_is_clean(text.encode("utf-8")) == (result.removals == ())
    # every kept character is found where shifted() says
    removed_at = {r.offset + i for r in result.removals for i in range(len(r.text))}
    for original, char in enumerate(text):
        if original not in removed_at:
            assert result.text[result.shifted(original)] == char


@settings(max_examples=300, deadline=None, database=None)
@given(st.lists(st.sampled_from(["&", "#", "&#", "x", "1", "1;", "11;", "FFFE;", "9;", ";", "&amp;", "a",
                                 "\ufffe", "\uffff",
                                 "\ufffd", "\uffbe", "\uefbf", "\uf8ff", "\x0b", "\t", "\ue000"]),
                max_size=30))
def test_property_fast_byte_check_agrees_with_the_full_pass(pieces: list[str]) -> None:
    """References and U+FFFE/U+FFFF can be assembled from pieces the byte check finds by
    their first byte only."""
    text = "".join(pieces)
    references = [int(m.group(1), 16) if m.group(1) else int(m.group(2))
                  for m in re.finditer(r"&#(?:x([0-9A-Fa-f]+)|([0-9]+));", text)]
    clean = (all(is_legal_code_point(ord(c)) for c in text)
             and all(is_legal_code_point(cp) for cp in references))
    assert utf8_is_clean(text.encode("utf-8")) == clean


def test_regression_sickle_drops_escapes_after_a_control_character() -> None:
    body = page(record("oai:x:1", "Tom \x0b&amp; Jerry &lt;1940&gt; &#x1;&#x3C;b&#x3E;"),
                record("oai:x:2", "R&amp;D")).encode()
    response = parse_response(body)
    assert title(response, 0) == "Tom & Jerry <1940> <b>"
    assert title(response, 1) == "R&D"
    assert codes(response.records[0].diagnostics) == ["illegal-xml-char", "illegal-char-ref"]
    assert response.records[1].diagnostics == ()
    message = response.records[0].diagnostics[0].message
    assert "U+000B" in message and "line 2" in message


def test_many_control_characters_are_capped_per_record() -> None:
    body = page(record("oai:x:1", "a\x01" * 200)).encode()
    diagnostics = parse_response(body).records[0].diagnostics
    assert 2 < len(diagnostics) <= 52
    assert "more" in diagnostics[-1].message


def test_illegal_character_outside_records_is_a_page_diagnostic() -> None:
    body = page(record("oai:x:1"), response_date="2024\x01-01-01").encode()
    response = parse_response(body)
    assert codes(response.diagnostics) == ["illegal-xml-char"]
    assert response.response_date == "2024-01-01"
    assert response.records[0].diagnostics == ()


def test_illegal_characters_in_a_utf16_page() -> None:
    body = page(record("oai:x:1", "x\x01y"), prolog="").encode("utf-16")
    response = parse_response(body)
    assert title(response, 0) == "xy"
    assert codes(response.records[0].diagnostics) == ["illegal-xml-char"]
