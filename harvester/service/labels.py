"""Human names for the values the aggregate is browsed by (set names, facet labels)."""

from __future__ import annotations

from collections.abc import Mapping


def country_name(code: str) -> str:
    """The English name of an ISO 3166-1 alpha-2 code (the code itself when unknown)."""
    from mappings.normalisers.vocabulary import load_vocabulary

    entry = load_vocabulary("countries").get(code)
    names = entry.get("names") if isinstance(entry, Mapping) else None
    return str(names[0]) if names else code
