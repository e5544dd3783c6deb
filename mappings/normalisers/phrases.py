"""Finding vocabulary phrases inside free text.

Scripts written with spaces between words (Latin, Cyrillic, Arabic, Indic...) match on word
boundaries, with an optional English plural ("dance" finds "dances"), so "art" is not found
in "party". Scripts without spaces (Han, kana, Thai, Lao, Khmer, Myanmar, Tibetan) and Hangul
(whose words carry particles: 민요를, 민요의) match as substrings.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Generic, TypeVar

from mappings.normalisers.folding import phrase_text
from mappings.normalisers.scripts import script_counts

V = TypeVar("V")

_UNSPACED_SCRIPTS = frozenset({"Hani", "Jpan", "Kore", "Thai", "Laoo", "Khmr", "Mymr", "Tibt"})


def _is_unspaced(phrase: str) -> bool:
    return any(script in _UNSPACED_SCRIPTS for script, _ in script_counts(phrase))


class PhraseMatcher(Generic[V]):
    """Maps every vocabulary phrase found in a text to its value (e.g. an ICH domain).

    Built once per vocabulary; two compiled alternations keep matching linear in the text.
    """

    def __init__(self, phrases: Mapping[str, V]) -> None:
        self._values: dict[str, V] = {}
        spaced: list[str] = []
        unspaced: list[str] = []
        for phrase, value in phrases.items():
            key = phrase_text(phrase)
            if not key or key in self._values:
                continue
            self._values[key] = value
            (unspaced if _is_unspaced(key) else spaced).append(key)
        # Longest first so that "traditional craftsmanship" wins over "craft".
        spaced.sort(key=len, reverse=True)
        unspaced.sort(key=len, reverse=True)
        self._spaced = (
            re.compile(
                r"(?<!\w)(" + "|".join(re.escape(p) for p in spaced) + r")(?:e?s)?(?!\w)"
            )
            if spaced
            else None
        )
        self._unspaced = (
            re.compile("|".join(re.escape(p) for p in unspaced)) if unspaced else None
        )

    def find(self, text: str) -> list[tuple[int, int, V]]:
        """(start, end, value) of every phrase in ``text``, in text order.

        Positions are in :func:`phrase_text` of ``text`` (casefolded, spaces collapsed).
        """
        folded = phrase_text(text)
        hits: list[tuple[int, int, V]] = []
        if self._spaced is not None:
            hits.extend(
                (m.start(), m.end(), self._values[m.group(1)]) for m in self._spaced.finditer(folded)
            )
        if self._unspaced is not None:
            hits.extend(
                (m.start(), m.end(), self._values[m.group(0)]) for m in self._unspaced.finditer(folded)
            )
        hits.sort(key=lambda hit: hit[0])
        return hits

    def values(self, texts: Iterable[str]) -> set[V]:
        """Every value whose phrase occurs in any of ``texts``."""
        found: set[V] = set()
        for text in texts:
            found.update(value for _, _, value in self.find(text))
        return found


def phrase_table(
    vocabulary: Mapping[str, Mapping[str, Iterable[str]]], *, skip: frozenset[str] = frozenset()
) -> dict[str, tuple[str, str]]:
    """Flatten ``{value: {language: [phrases]}}`` (the YAML layout) into
    ``{phrase: (value, language)}``; the first value listed for a phrase wins.

    ``skip`` names sub-keys that are not languages (e.g. ``exact``).
    """
    table: dict[str, tuple[str, str]] = {}
    for value, by_language in vocabulary.items():
        for language, phrases in by_language.items():
            if language in skip:
                continue
            for phrase in phrases or []:
                table.setdefault(str(phrase), (str(value), str(language)))
    return table
