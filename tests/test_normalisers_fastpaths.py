"""Normalisers' fast paths agree with the plain computation they replace."""

from __future__ import annotations

import unicodedata
from collections import Counter

from hypothesis import given, settings
from hypothesis import strategies as st

from mappings.normalisers import folding, scripts

# Letters of many scripts, marks, digits, punctuation, spaces and astral characters.
_ALPHABET = st.sampled_from(
    list("Pansori Hát xoan Қазақ күй Монгол ᠮᠣᠩᠭᠣᠯ 판소리를 歌舞伎 かぶき カブキ ภาษาไทย हिन्दी")
    + ["\u0301", "\u0e31", "\u093f", "1", ".", "\u3000", "\U00020000", "\U0001b000", "\U0001f600"])


def _script_counts_with_counter(s: str) -> tuple[tuple[str, int], ...]:
    counts: dict[str, int] = {}
    for tag, n in Counter(s.translate(scripts._script_table())).items():
        code = scripts._CODE_OF_TAG.get(tag)
        if code is not None:
            counts[code] = n
    return scripts._ranked(counts)


@settings(max_examples=300, deadline=None)
@given(st.text(_ALPHABET, max_size=80))
def test_script_counts_agrees_with_a_counter(text: str) -> None:
    assert scripts.script_counts.__wrapped__(text) == _script_counts_with_counter(text)


def test_script_counts_ties_keep_first_seen_order() -> None:
    assert [code for code, _ in scripts.script_counts.__wrapped__("ab αβ")] == ["Latn", "Grek"]
    assert [code for code, _ in scripts.script_counts.__wrapped__("αβ ab")] == ["Grek", "Latn"]


def test_script_table_says_what_script_of_says() -> None:
    expected: dict[int, str | None] = {}
    for cp in range(0x10000):
        code = scripts.script_of(chr(cp))
        expected[cp] = scripts._TAG[code] if code is not None else None
    for first, last, code in scripts._RANGES:
        if first >= 0x10000:
            for cp in range(first, last + 1):
                expected[cp] = scripts._TAG[code]
    table = scripts._script_table.__wrapped__()
    assert table == expected
    assert list(table) == list(expected)


def test_separator_table_is_punctuation_symbols_spaces_controls_and_modifier_letters() -> None:
    expected = {cp: None for cp in range(0x10000)
                if unicodedata.category(chr(cp))[0] in "PZSC"
                or unicodedata.category(chr(cp)) == "Lm"}
    assert folding._separators.__wrapped__() == expected
