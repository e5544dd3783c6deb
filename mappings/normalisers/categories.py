"""dc:type values -> the ichLinks category (element, resource, stakeholder, event)."""

from __future__ import annotations

import functools
import re

from mappings.normalisers.folding import compact_key
from mappings.normalisers.phrases import PhraseMatcher, phrase_table
from mappings.normalisers.text import clean_text
from mappings.normalisers.vocabulary import load_vocabulary

CATEGORIES = ("element", "resource", "stakeholder", "event")
# "info:eu-repo/semantics/article", "http://purl.org/dc/dcmitype/Event": the last segment.
_URI_TAIL = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)\S*[/#:]([^/#:]+)/?$", re.IGNORECASE)
# camelCase type names such as "conferenceObject" or "MovingImage" -> words.
_CAMEL = re.compile(r"(?<=[a-z])(?=[A-Z])")


@functools.cache
def _tables() -> tuple[dict[str, str], PhraseMatcher]:
    vocabulary = load_vocabulary("categories")
    unknown = set(vocabulary) - set(CATEGORIES)
    if unknown:
        raise ValueError(f"categories.yaml names unknown categories: {sorted(unknown)}")
    table = phrase_table(vocabulary)
    exact = {compact_key(phrase): category for phrase, category in table.items()}
    return exact, PhraseMatcher(table)


@functools.lru_cache(maxsize=16384)
def category_from_type(s: str) -> str | None:
    """The category a dc:type value (or type-like phrase) points to; None if it says nothing."""
    value = clean_text(s)
    if m := _URI_TAIL.match(value):
        value = m.group(1)
    value = _CAMEL.sub(" ", value)
    if not value:
        return None
    exact, matcher = _tables()
    found = exact.get(compact_key(value))
    if found is not None:
        return found
    hits = matcher.find(value)
    return hits[0][1] if hits else None
