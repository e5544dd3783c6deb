"""Lookup keys for vocabulary matching.

Two kinds of key, because the scripts differ in what a "difference" means:

* Latin: case, whitespace, punctuation and diacritics are ignored ("Việt Nam" = "viet nam" =
  "VIETNAM"), since catalogues in the region drop or mangle diacritics all the time.
* Every other script: compared after NFKC and casefolding only; combining marks there are
  vowels and tones (Thai, Devanagari, Khmer...), not decoration, so they are never removed.
"""

from __future__ import annotations

import functools
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

_SEPARATOR_CATEGORIES = frozenset({"P", "Z", "S", "C"})


def _is_latin_letter(ch: str) -> bool:
    cp = ord(ch)
    return (
        (0x41 <= cp <= 0x5A)
        or (0x61 <= cp <= 0x7A)
        or (0xC0 <= cp <= 0x24F)
        or (0x1E00 <= cp <= 0x1EFF)
        or (0x2C60 <= cp <= 0x2C7F)
        or (0xA720 <= cp <= 0xA7FF)
    )


@functools.lru_cache(maxsize=65536)
def compact_key(s: str) -> str:
    """Key without case, spaces, punctuation, and (for Latin letters only) diacritics.

    Modifier letters such as the Uzbek ``ʻ`` (U+02BB) and every apostrophe variant are
    dropped too, so "Oʻzbekiston", "O'zbekiston" and "Ozbekiston" meet.
    """
    folded = unicodedata.normalize("NFKC", s).casefold().translate(_LATIN_LOOKALIKES)
    if folded.isascii():
        return "".join(ch for ch in folded if ch.isalnum())
    out: list[str] = []
    previous_latin = False
    for ch in unicodedata.normalize("NFD", folded):
        if unicodedata.combining(ch):
            if not previous_latin:
                out.append(ch)
            continue
        category = unicodedata.category(ch)
        if category[0] in _SEPARATOR_CATEGORIES or category == "Lm":
            previous_latin = False
            continue
        previous_latin = _is_latin_letter(ch)
        out.append(ch)
    return unicodedata.normalize("NFC", "".join(out))


@functools.lru_cache(maxsize=65536)
def phrase_text(s: str) -> str:
    """Casefolded NFKC text with runs of whitespace made single spaces; diacritics kept.

    Used where diacritics carry meaning (Vietnamese "múa" = dance, "mua" = buy) and words
    must stay apart for word-boundary matching.
    """
    return " ".join(unicodedata.normalize("NFKC", s).casefold().split())
