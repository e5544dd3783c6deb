"""dc:type values -> the ichLinks category (element, resource, stakeholder, event)."""

from __future__ import annotations

import functools
import re
from typing import NamedTuple

from mappings.normalisers.folding import compact_key, phrase_text
from mappings.normalisers.phrases import PhraseMatcher, phrase_table
from mappings.normalisers.text import clean_text
from mappings.normalisers.vocabulary import load_vocabulary

CATEGORIES = ("element", "resource", "stakeholder", "event")
# "info:eu-repo/semantics/article", "http://purl.org/dc/dcmitype/Event", "doc-type:ResearchData".
_URI_TAIL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)\S*?([^/#:]+)/?$", re.IGNORECASE)
# camelCase type names such as "conferenceObject" or "MovingImage" -> words.
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")
# Languages whose noun phrases put the head first ("báo cáo hội thảo" = workshop report).
# In the others (English, Korean, Japanese, Chinese...) the head comes last
# ("exhibition catalogue", "학술대회 자료집").
_HEAD_FIRST = frozenset({"vi", "th", "lo", "km", "id", "ms", "tl", "fil", "fa", "ar"})
_EXACT_ONLY = "exact"
# English heads come before a prepositional phrase: "Seminar on ICH safeguarding" is a seminar.
_PREPOSITION = re.compile(r"\b(?:of|on|for|about|in|from|by|with|at|to)\b")


class _Tables(NamedTuple):
    exact: dict[str, str]
    matcher: PhraseMatcher[tuple[str, str]]


@functools.cache
def _tables() -> _Tables:
    vocabulary = load_vocabulary("categories")
    unknown = set(vocabulary) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"categories.yaml names unknown categories: {sorted(unknown)}")
    table = phrase_table(vocabulary, skip=frozenset({_EXACT_ONLY}))
    exact = {compact_key(phrase): category for phrase, (category, _) in table.items()}
    # Words too general to find inside a longer value ("practice" in "clinical practice").
    for category, by_language in vocabulary.items():
        for phrase in by_language.get(_EXACT_ONLY) or []:
            exact.setdefault(compact_key(str(phrase)), category)
    return _Tables(exact, PhraseMatcher(table))


@functools.lru_cache(maxsize=16384)
def category_from_type(s: str) -> str | None:
    """The category a dc:type value (or type-like phrase) points to; None if it says nothing.

    A value equal to a vocabulary phrase decides at once. Otherwise the phrase that is the
    head of the value decides: the last one found, or the first when the value starts with a
    phrase of a head-first language.
    """
    value = clean_text(s)
    if m := _URI_TAIL.match(value):
        value = m.group(1)
    value = _CAMEL.sub(" ", value)
    if not value:
        return None
    tables = _tables()
    found = tables.exact.get(compact_key(value))
    if found is not None:
        return found
    hits = tables.matcher.find(value)
    if not hits:
        return None
    first_category, first_language = hits[0][2]
    if first_language in _HEAD_FIRST:
        return first_category
    folded = phrase_text(value)
    for m in _PREPOSITION.finditer(folded):
        if not any(start <= m.start() < end for start, end, _ in hits):
            before = [hit for hit in hits if hit[1] <= m.start()]
            if before:
                hits = before
            break
    return hits[-1][2][0]
