"""Lookup keys for vocabulary matching.

Two kinds of key, because the scripts differ in what a "difference" means:

* Latin: case, whitespace, punctuation and diacritics are ignored ("Việt Nam" = "viet nam" =
  "VIETNAM"), since catalogues in the region drop or mangle diacritics all the time.
* Every other script: compared after NFKC and casefolding only; combining marks there are
  vowels and tones (Thai, Devanagari, Khmer...), not decoration, so they are never removed.
"""

from __future__ import annotations

import functools
import re
import unicodedata

# Letters that do not decompose under NFD but that people type without the stroke.
_LATIN_LOOKALIKES = str.maketrans(
    {
        "đ": "d",
        "ð": "d",
        "ø": "o",
        "ł": "l",
        "ß": "ss",
        "æ": "ae",
        "œ": "oe",
        "ı": "i",
        "ħ": "h",
        "ŧ": "t",
        # Arabic-script sources mix Arabic and Persian yeh/kaf for the same word.
        "ي": "ی",
        "ى": "ی",
        "ك": "ک",
    }
)

# After NFD, a Latin base letter followed by its combining diacritics (U+0300-U+036F).
_LATIN_DIACRITICS = re.compile(r"(?<=[a-z])[\u0300-\u036f]+")


@functools.cache
def _separators() -> dict[int, None]:
    """Translate table deleting punctuation, symbols, spaces, controls and modifier letters
    (the Basic Multilingual Plane is enough: that is where all of them that occur in names live)."""
    category = unicodedata.category
    # One category lookup per code point: every process that maps records builds this table.
    return dict.fromkeys(cp for cp in range(0x10000)
                         if (c := category(chr(cp)))[0] in "PZSC" or c == "Lm")


@functools.lru_cache(maxsize=65536)
def compact_key(s: str) -> str:
    """Key without case, spaces, punctuation, and (for Latin letters only) diacritics.

    Modifier letters such as the Uzbek ``ʻ`` (U+02BB) and every apostrophe variant are
    dropped too, so "Oʻzbekiston", "O'zbekiston" and "Ozbekiston" meet. Marks on letters of
    other scripts (Thai vowels, Devanagari matras, Cyrillic breve in "й") are kept.
    """
    folded = unicodedata.normalize("NFKC", s).casefold().translate(_LATIN_LOOKALIKES)
    if not folded.isascii():
        decomposed = _LATIN_DIACRITICS.sub("", unicodedata.normalize("NFD", folded))
        folded = unicodedata.normalize("NFC", decomposed)
    return folded.translate(_separators())


@functools.lru_cache(maxsize=65536)
def phrase_text(s: str) -> str:
    """Casefolded NFKC text with runs of whitespace made single spaces; diacritics kept.

    Used where diacritics carry meaning (Vietnamese "múa" = dance, "mua" = buy) and words
    must stay apart for word-boundary matching.
    """
    return " ".join(unicodedata.normalize("NFKC", s).casefold().split())
