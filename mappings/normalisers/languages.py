"""Language codes and names -> BCP 47, and script-based language guessing.

Tags follow the ICH record's rule: the ISO 639-1 code where one exists, a script subtag only
when the text is not in the language's usual script (mn-Mong, uz-Cyrl, ko-Latn).
"""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from mappings.normalisers.countries import normalise_country
from mappings.normalisers.folding import compact_key
from mappings.normalisers.scripts import script_counts
from mappings.normalisers.text import clean_text
from mappings.normalisers.vocabulary import load_vocabulary

_TAG = re.compile(r"[A-Za-z]{2,3}(?:[-_][A-Za-z0-9]{1,8})*")
# Values that are codes but say "no language": ISO 639-2 "undetermined".
_UNDETERMINED = frozenset({"und"})
# Special ISO 639-2 codes that are valid BCP 47 primary subtags in their own right.
_SPECIAL_CODES = {"mul": "mul", "zxx": "zxx", "mis": "mis"}


class _Tables(NamedTuple):
    codes: dict[str, str]
    names: dict[str, str]
    scripts: dict[str, tuple[str, ...]]


@functools.cache
def _tables() -> _Tables:
    codes: dict[str, str] = dict(_SPECIAL_CODES)
    names: dict[str, str] = {}
    scripts: dict[str, tuple[str, ...]] = {}
    for tag, entry in load_vocabulary("languages").items():
        tag = str(tag)
        codes[tag.lower()] = tag
        for field in ("iso639_2b", "iso639_2t"):
            if entry.get(field):
                codes[str(entry[field]).lower()] = tag
        for code in entry.get("iso639_3", []) or []:
            codes.setdefault(str(code).lower(), tag)
        for code in entry.get("aliases", []) or []:
            codes.setdefault(str(code).lower(), tag)
        scripts[tag.lower()] = tuple(entry.get("scripts", []) or [])
        for name in entry.get("names", []) or []:
            names.setdefault(compact_key(str(name)), tag)
        for fuller_tag, fuller_names in (entry.get("tags") or {}).items():
            for name in fuller_names:
                names[compact_key(str(name))] = str(fuller_tag)
    return _Tables(codes, names, scripts)


def _canonical_subtag(subtag: str) -> str:
    # RFC 5646 §2.1.1: scripts Title case, regions upper case, everything else lower case.
    if len(subtag) == 4 and subtag.isalpha():
        return subtag.title()
    if len(subtag) == 2 and subtag.isalpha():
        return subtag.upper()
    return subtag.lower()


def _from_tag(value: str) -> str | None:
    parts = value.replace("_", "-").split("-")
    primary = parts[0].lower()
    if primary in _UNDETERMINED:
        return None
    tag = _tables().codes.get(primary)
    if tag is None:
        return None
    return "-".join([tag, *(_canonical_subtag(p) for p in parts[1:])])


def _from_name(value: str) -> str | None:
    names = _tables().names
    key = compact_key(value)
    if key in names:
        return names[key]
    for suffix in ("language", "languages", "lang"):
        if key.endswith(suffix) and key[: -len(suffix)] in names:
            return names[key[: -len(suffix)]]
    # "Korean (한국어)", "한국어 (Korean)": either side may be the known one;
    # "English (United States)", the Windows/Java display form: a region.
    if "(" in value or "（" in value:
        pieces = [p for p in re.split(r"[()（）]", value) if p.strip()]
        for i, piece in enumerate(pieces):
            tag = names.get(compact_key(piece))
            if tag is None:
                continue
            if "-" not in tag:
                for other in pieces[i + 1 :]:
                    region = normalise_country(other)
                    if region is not None:
                        return f"{tag}-{region}"
            return tag
    return None


@functools.lru_cache(maxsize=16384)
def normalise_language(s: str) -> str | None:
    """BCP 47 tag for an ISO 639 code, a language tag or a language name; None if unknown.

    Unknown codes give None rather than being passed through: harvested xml:lang values such
    as "zz" or "us" are common and would otherwise pollute the language facet.
    """
    value = clean_text(s)
    if not value:
        return None
    if _TAG.fullmatch(value):
        tag = _from_tag(value)
        if tag is not None:
            return tag
    return _from_name(value)


def normalise_languages(s: str) -> list[str]:
    """Every language in a value such as "eng; kor" or "English, Korean" (unique, in order)."""
    whole = normalise_language(s)
    if whole is not None:
        return [whole]
    found: list[str] = []
    for piece in re.split(r"[;,/|]|\s+and\s+|\s*&\s*", s):
        tag = normalise_language(piece)
        if tag is not None and tag not in found:
            found.append(tag)
    return found


def default_scripts(tag: str) -> tuple[str, ...]:
    """Scripts that need no subtag for the tag's language (empty when the language is unknown)."""
    return _tables().scripts.get(tag.split("-")[0].lower(), ())


@functools.lru_cache(maxsize=16384)
def with_script(tag: str, s: str) -> str:
    """Add the text's script subtag when it is not the language's default script.

    A tag that already has a script subtag is trusted and returned unchanged, as is a tag of
    a language whose scripts the vocabulary does not know.
    """
    parts = tag.split("-")
    if len(parts) > 1 and len(parts[1]) == 4 and parts[1].isalpha():
        return tag
    counts = script_counts(s)
    if not counts:
        return tag
    script = counts[0][0]
    defaults = default_scripts(tag)
    if not defaults or script in defaults:
        return tag
    return "-".join([parts[0], script, *parts[1:]])


# Cyrillic letters that single out one language of the region (checked in this order).
_TAJIK = frozenset("ӣӯҷ")
_BELARUSIAN_I = frozenset("іў")
_UZBEK = frozenset("ўҳ")
_KAZAKH_ONLY = frozenset("әғқұһі")
_KYRGYZ_OR_KAZAKH = frozenset("ң")
_MONGOLIAN_OR_TURKIC = frozenset("өү")
_UKRAINIAN = frozenset("єїґ")
_SERBIAN = frozenset("ђћџљњј")
_MACEDONIAN = frozenset("ѓќѕ")
# Arabic-script letters: Persian has پ چ ژ گ; Urdu, Pashto and Uyghur add letters of their own.
_PERSIAN = frozenset("پچژگ")
_URDU = frozenset("ٹڈڑںےھ")
_PASHTO = frozenset("ټډړږښځڅۍې")
_UYGHUR = frozenset("ۆۇۈۋە")
# Latin letters that occur in Vietnamese and (practically) nowhere else.
_VIETNAMESE = frozenset(
    "ơưđạảấầẩẫậắằẳẵặẹẻẽếềểễệỉịọỏốồổỗộớờởỡợụủứừửữựỳỵỷỹ"
)
_UZBEK_LATIN = re.compile(r"[og][ʻ‘]\w", re.IGNORECASE)
_UZBEK_LATIN_APOSTROPHE = re.compile(r"[og]['’][a-z]", re.IGNORECASE)
# Enough Cyrillic letters without any language-specific one to call the text Russian.
_MIN_LETTERS_FOR_RUSSIAN = 20

_SCRIPT_LANGUAGE = {
    "Kore": "ko",
    "Jpan": "ja",
    "Hani": "zh",
    "Thai": "th",
    "Laoo": "lo",
    "Khmr": "km",
    "Mymr": "my",
    "Mong": "mn-Mong",
    "Tibt": "bo",
    "Deva": "hi",
    "Beng": "bn",
    "Sinh": "si",
    "Taml": "ta",
    "Telu": "te",
    "Knda": "kn",
    "Mlym": "ml",
    "Gujr": "gu",
    "Guru": "pa",
    "Orya": "or",
    "Thaa": "dv",
    "Geor": "ka",
    "Armn": "hy",
    "Grek": "el",
    "Hebr": "he",
    "Ethi": "am",
}


def _guess_cyrillic(letters: set[str], count: int) -> str | None:
    if letters & _TAJIK:
        return "tg"
    if _BELARUSIAN_I <= letters:
        return "be"
    if letters & _UZBEK:
        return "uz-Cyrl"
    if letters & _KAZAKH_ONLY:
        return "kk"
    if letters & _KYRGYZ_OR_KAZAKH:
        # Kyrgyz writes ң, ө and ү but none of Kazakh's own letters; ң alone stays Kazakh.
        return "ky" if letters & _MONGOLIAN_OR_TURKIC else "kk"
    if letters & _MONGOLIAN_OR_TURKIC:
        return "mn"
    if letters & _UKRAINIAN:
        return "uk"
    if letters & _MACEDONIAN:
        return "mk"
    if letters & _SERBIAN:
        return "sr"
    return "ru" if count >= _MIN_LETTERS_FOR_RUSSIAN else None


def _guess_arabic(letters: set[str]) -> str | None:
    if letters & _UYGHUR:
        return "ug"
    if letters & _PASHTO:
        return "ps"
    if letters & _URDU:
        return "ur"
    if letters & _PERSIAN:
        return "fa"
    return None


def _guess_latin(text: str, letters: set[str]) -> str | None:
    if letters & _VIETNAMESE:
        return "vi"
    if _UZBEK_LATIN.search(text) or len(_UZBEK_LATIN_APOSTROPHE.findall(text)) >= 2:
        return "uz"
    return None


@functools.lru_cache(maxsize=16384)
def guess_language(s: str) -> str | None:
    """Guess a BCP 47 tag from the dominant script and tell-tale letters; None when unsure.

    Deliberately conservative: plain Latin text (English, Indonesian, romanisations...) and
    plain Arabic script give None, since a wrong language tag is worse than none.
    """
    counts = script_counts(s)
    if not counts:
        return None
    script, count = counts[0]
    if script in _SCRIPT_LANGUAGE:
        return _SCRIPT_LANGUAGE[script]
    letters = set(s.casefold())
    if script == "Cyrl":
        return _guess_cyrillic(letters, count)
    if script == "Arab":
        return _guess_arabic(letters)
    if script == "Latn":
        return _guess_latin(s, letters)
    return None
