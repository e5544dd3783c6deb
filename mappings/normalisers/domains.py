"""Subjects and keywords -> the five ICH domains of the 2003 UNESCO Convention."""

from __future__ import annotations

import functools
from collections.abc import Iterable

from mappings.normalisers.phrases import PhraseMatcher, phrase_table
from mappings.normalisers.vocabulary import load_vocabulary

DOMAINS = (
    "oral_traditions",
    "performing_arts",
    "social_practices",
    "knowledge_nature",
    "craftsmanship",
)


@functools.cache
def _matcher() -> PhraseMatcher[str]:
    vocabulary = load_vocabulary("domains")
    unknown = set(vocabulary) - set(DOMAINS)
    if unknown:
        raise ValueError(f"domains.yaml names unknown domains: {sorted(unknown)}")
    return PhraseMatcher({phrase: domain for phrase, (domain, _) in phrase_table(vocabulary).items()})


@functools.lru_cache(maxsize=16384)
def _domains_of(value: str) -> frozenset[str]:
    return frozenset(domain for _, _, domain in _matcher().find(value))


def ich_domains(values: Iterable[str]) -> list[str]:
    """The domains any of ``values`` (subjects, types, titles...) speaks of; sorted, unique."""
    found: set[str] = set()
    for value in values:
        found.update(_domains_of(value))
    return sorted(found)
