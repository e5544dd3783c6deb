"""Which writing system a text is in, by ISO 15924 code.

Only letters count (digits, punctuation and spaces are script-neutral). Han characters are
attributed to Japanese (``Jpan``) when the text also has kana and to Korean (``Kore``) when it
also has Hangul, because kanji/hanja inside Japanese or Korean text say nothing on their own.
"""

from __future__ import annotations

import bisect
import functools
import unicodedata

# (first code point, last code point, ISO 15924) — sorted by first code point.
_RANGES: tuple[tuple[int, int, str], ...] = (
    (0x0041, 0x005A, "Latn"),
    (0x0061, 0x007A, "Latn"),
    (0x00C0, 0x024F, "Latn"),
    (0x0370, 0x03FF, "Grek"),
    (0x0400, 0x052F, "Cyrl"),
    (0x0530, 0x058F, "Armn"),
    (0x0590, 0x05FF, "Hebr"),
    (0x0600, 0x06FF, "Arab"),
    (0x0750, 0x077F, "Arab"),
    (0x0780, 0x07BF, "Thaa"),
    (0x0900, 0x097F, "Deva"),
    (0x0980, 0x09FF, "Beng"),
    (0x0A00, 0x0A7F, "Guru"),
    (0x0A80, 0x0AFF, "Gujr"),
    (0x0B00, 0x0B7F, "Orya"),
    (0x0B80, 0x0BFF, "Taml"),
    (0x0C00, 0x0C7F, "Telu"),
    (0x0C80, 0x0CFF, "Knda"),
    (0x0D00, 0x0D7F, "Mlym"),
    (0x0D80, 0x0DFF, "Sinh"),
    (0x0E00, 0x0E7F, "Thai"),
    (0x0E80, 0x0EFF, "Laoo"),
    (0x0F00, 0x0FFF, "Tibt"),
    (0x1000, 0x109F, "Mymr"),
    (0x10A0, 0x10FF, "Geor"),
    (0x1100, 0x11FF, "Hang"),
    (0x1200, 0x139F, "Ethi"),
    (0x1780, 0x17FF, "Khmr"),
    (0x1800, 0x18AF, "Mong"),
    (0x19E0, 0x19FF, "Khmr"),
    (0x1C90, 0x1CBF, "Geor"),
    (0x1D00, 0x1D7F, "Latn"),
    (0x1E00, 0x1EFF, "Latn"),
    (0x1F00, 0x1FFF, "Grek"),
    (0x2C60, 0x2C7F, "Latn"),
    (0x2D00, 0x2D2F, "Geor"),
    (0x2DE0, 0x2DFF, "Cyrl"),
    (0x2E80, 0x2FDF, "Hani"),
    (0x3005, 0x3007, "Hani"),
    (0x3021, 0x3029, "Hani"),
    (0x3038, 0x303B, "Hani"),
    (0x3041, 0x309F, "Hira"),
    (0x30A0, 0x30FF, "Kana"),
    (0x3130, 0x318F, "Hang"),
    (0x31F0, 0x31FF, "Kana"),
    (0x3400, 0x4DBF, "Hani"),
    (0x4E00, 0x9FFF, "Hani"),
    (0xA640, 0xA69F, "Cyrl"),
    (0xA720, 0xA7FF, "Latn"),
    (0xA960, 0xA97F, "Hang"),
    (0xA9E0, 0xA9FF, "Mymr"),
    (0xAA60, 0xAA7F, "Mymr"),
    (0xAB30, 0xAB6F, "Latn"),
    (0xAC00, 0xD7FF, "Hang"),
    (0xF900, 0xFAFF, "Hani"),
    (0xFB50, 0xFDFF, "Arab"),
    (0xFE70, 0xFEFF, "Arab"),
    (0xFF21, 0xFF3A, "Latn"),
    (0xFF41, 0xFF5A, "Latn"),
    (0xFF66, 0xFF9F, "Kana"),
    (0xFFA0, 0xFFDC, "Hang"),
    (0x1B000, 0x1B16F, "Hira"),
    (0x20000, 0x3134F, "Hani"),
)
_STARTS = [r[0] for r in _RANGES]


def script_of(ch: str) -> str | None:
    """ISO 15924 code of one character, or None for script-neutral characters."""
    cp = ord(ch)
    i = bisect.bisect_right(_STARTS, cp) - 1
    if i >= 0:
        first, last, code = _RANGES[i]
        # Vowel signs of Indic and South-East Asian scripts are marks, not letters, yet
        # they belong to the script; digits and punctuation in those blocks do not.
        if cp <= last and (ch.isalpha() or unicodedata.category(ch)[0] == "M"):
            return code
    return None


_CODES = sorted({code for _, _, code in _RANGES})
# Each script stands for one private-use character in translated text, so that counting the
# letters of a text is one str.translate and a str.count per script, all in C.
_TAG = {code: chr(0xE000 + i) for i, code in enumerate(_CODES)}
_CODE_OF_TAG = {tag: code for code, tag in _TAG.items()}


@functools.cache
def _script_table() -> dict[int, str | None]:
    """What :func:`script_of` says of every BMP character (None deletes it), plus the
    supplementary ranges; built from the ranges rather than by a search per code point,
    because every process that maps records builds it (a test holds the two to each other)."""
    table: dict[int, str | None] = dict.fromkeys(range(0x10000))
    category = unicodedata.category
    for first, last, code in _RANGES:
        tag = _TAG[code]
        if first >= 0x10000:  # supplementary planes: Han extensions, historic kana
            for cp in range(first, last + 1):
                table[cp] = tag
            continue
        for cp in range(first, last + 1):
            ch = chr(cp)
            if ch.isalpha() or category(ch)[0] == "M":
                table[cp] = tag
    return table


@functools.lru_cache(maxsize=8192)
def script_counts(s: str) -> tuple[tuple[str, int], ...]:
    """(script, letters) pairs, most letters first; Han merged into Jpan/Kore as explained in
    the module docstring. Cached: a title is often looked at by several normalisers."""
    counts: dict[str, int] = {}
    tagged = s.translate(_script_table())
    # What collections.Counter gives, in the same first-seen order (ties keep it when sorted
    # below), without its Python-level update: the translated text holds a few distinct
    # characters (one per script), so one str.count each is cheaper.
    for tag in dict.fromkeys(tagged):
        code = _CODE_OF_TAG.get(tag)  # characters outside the table come through unchanged
        if code is not None:
            counts[code] = tagged.count(tag)
    return _ranked(counts)


def _ranked(counts: dict[str, int]) -> tuple[tuple[str, int], ...]:
    """Letters per script, Han merged into Jpan/Kore, most first (ties in insertion order)."""
    kana = counts.pop("Hira", 0) + counts.pop("Kana", 0)
    if kana:
        counts["Jpan"] = counts.get("Jpan", 0) + kana + counts.pop("Hani", 0)
    hangul = counts.pop("Hang", 0)
    if hangul:
        counts["Kore"] = counts.get("Kore", 0) + hangul + counts.pop("Hani", 0)
    return tuple(sorted(counts.items(), key=lambda item: -item[1]))


def dominant_script(s: str) -> str | None:
    """The script with most letters; None for text without letters.

    Hangul-only text gives ``Kore`` (not ``Hang``) so that callers need one code per language.
    """
    counts = script_counts(s)
    return counts[0][0] if counts else None
