"""Country names and codes -> ISO 3166-1 alpha-2."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from mappings.normalisers.folding import compact_key
from mappings.normalisers.text import clean_text
from mappings.normalisers.vocabulary import load_vocabulary

# Separate values ("Viet Nam; Lao PDR") first, then the parts of one place description
# ("Phú Thọ province, Viet Nam", "Hue (Viet Nam)", "Hanoi - Viet Nam").
_VALUE_SEPARATORS = re.compile(r"[;|\n/]")
_PART_SEPARATORS = re.compile(r"[,，、()（）\[\]]|\s[-–—]\s")
_CODE = re.compile(r"[A-Z]{2,3}")
_LEADING_ARTICLE = re.compile(r"^the\s+", re.IGNORECASE)


class _Tables(NamedTuple):
    names: dict[str, str]
    codes: dict[str, str]


@functools.cache
def _tables() -> _Tables:
    names: dict[str, str] = {}
    codes: dict[str, str] = {}
    for alpha2, entry in load_vocabulary("countries").items():
        alpha2 = str(alpha2)
        codes[alpha2] = alpha2
        codes[str(entry["alpha3"])] = alpha2
        for name in entry.get("names", []) or []:
            names.setdefault(compact_key(_LEADING_ARTICLE.sub("", str(name))), alpha2)
    return _Tables(names, codes)


def _part_key(part: str) -> tuple[str, str]:
    """(stripped part, lookup key) — the key without a leading English article."""
    part = part.strip(" \t.\"'“”‘’")
    if part[:4].lower() == "the ":
        return part, compact_key(part[4:])
    return part, compact_key(part)


def _lookup_key(part: str, key: str) -> str | None:
    if not key:
        return None
    tables = _tables()
    # Codes only when written as codes: a lower-case "in" or "to" is a word, not India or Tonga.
    if _CODE.fullmatch(part):
        code = tables.codes.get(part)
        if code is not None:
            return code
    if len(key) <= 2 and key.isascii() and not part.isupper():
        return None  # "us", "uk" in running text are words
    return tables.names.get(key)


def _lookup(part: str) -> str | None:
    return _lookup_key(*_part_key(part))


def _search_parts(segment: str) -> str | None:
    parts = [_part_key(p) for p in _PART_SEPARATORS.split(segment) if p.strip()]
    # Place descriptions usually run from specific to general, so the country is most often
    # last; adjacent pairs first so that "Seoul, Korea, Republic of" finds the whole name
    # (keys ignore punctuation, so a pair's key is the two keys joined).
    names = _tables().names
    for i in range(len(parts) - 2, -1, -1):
        found = names.get(parts[i][1] + parts[i + 1][1])
        if found is not None:
            return found
    for part, key in reversed(parts):
        found = _lookup_key(part, key)
        if found is not None:
            return found
    return None


@functools.lru_cache(maxsize=16384)
def normalise_country(s: str) -> str | None:
    """ISO 3166-1 alpha-2 code of the country named or coded in ``s``; None if there is none.

    Looks at the whole value, then at its separate values and comma/bracket-separated parts,
    never inside words: "Indiana" is not India.
    """
    value = clean_text(s)
    if not value:
        return None
    found = _lookup(value)
    if found is not None:
        return found
    segments = _VALUE_SEPARATORS.split(value)
    for segment in segments:
        found = (_lookup(segment) if len(segments) > 1 else None) or _search_parts(segment)
        if found is not None:
            return found
    return None
