"""Turn whatever a user typed into plain search terms.

The text is never handed to an engine's query parser: quotes, brackets,
``AND``/``OR``, wildcards, backslashes and JSON are just characters.  What
remains are *words* (all must match) and *phrases* (balanced double quotes).
Both backends build their engine queries from this one result, which keeps them
equivalent and leaves nothing to inject.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from .search_document import field_config

_QUOTED = re.compile(r'"([^"]*)"')


@dataclass(frozen=True)
class QueryTerms:
    words: tuple[str, ...]
    phrases: tuple[tuple[str, ...], ...]    # each phrase as its words

    @property
    def empty(self) -> bool:
        return not self.words and not self.phrases


def _plain_words(text: str) -> list[str]:
    # Letters, digits and combining marks (Thai vowels, Vietnamese tones in NFD)
    # make words; everything else separates them.  Overlong words are cut: no real
    # word is 50 characters, and each CJK character becomes an engine clause.
    cleaned = "".join(
        ch if ch.isalnum() or unicodedata.category(ch).startswith("M") else " " for ch in text)
    limit = field_config().max_word_chars
    return [word[:limit] for word in cleaned.split()]


def parse_user_text(q: str | None) -> QueryTerms:
    """Words and phrases of ``q``, NFC-normalised, cut to the limits in ``fields.yaml``."""
    config = field_config()
    text = unicodedata.normalize("NFC", q or "")[: config.max_query_chars]
    quoted = [tuple(_plain_words(m.group(1))) for m in _QUOTED.finditer(text)]
    rest = _QUOTED.sub(" ", text)
    # A quoted single word is just that word.
    words = list(dict.fromkeys(_plain_words(rest) + [q[0] for q in quoted if len(q) == 1]))
    phrases = list(dict.fromkeys(q for q in quoted if len(q) > 1))
    budget = config.max_query_terms
    phrases = phrases[:budget]
    words = words[: max(0, budget - len(phrases))]
    return QueryTerms(words=tuple(words), phrases=tuple(phrases))
