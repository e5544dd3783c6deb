"""Turn command-line search words into an indexer query, and run it on the configured backend."""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any

from harvester.config import Settings
from harvester.errors import ConfigError, SearchIndexError

_YEARS = re.compile(r"^\s*(-?\d{1,4})?\s*(?:-|\.\.|/)\s*(-?\d{1,4})?\s*$")


def parse_filters(q: str, filters: Sequence[str], *, facets: bool = True, limit: int = 20,
                  offset: int = 0):  # type: ignore[no-untyped-def]
    """``FIELD=VALUE`` pairs (repeatable, OR within a field) and ``year=FROM-TO``."""
    from indexer import FACET_FIELDS, SearchQuery

    by_field: dict[str, list[str]] = {}
    year_from = year_to = None
    for item in filters:
        name, sep, value = item.partition("=")
        name, value = name.strip(), value.strip()
        if not sep or not value:
            raise ConfigError(f"--filter wants FIELD=VALUE, not {item!r}", key="--filter")
        if name in ("year", "years"):
            if value.lstrip("-").isdigit():
                year_from = year_to = int(value)
            elif m := _YEARS.match(value):
                year_from = int(m.group(1)) if m.group(1) else None
                year_to = int(m.group(2)) if m.group(2) else None
            else:
                raise ConfigError(f"year filter wants FROM-TO, not {value!r}", key="--filter")
            continue
        if name not in FACET_FIELDS:
            raise ConfigError(f"cannot filter on {name!r} (fields: {', '.join(FACET_FIELDS)}, year)",
                              key="--filter")
        by_field.setdefault(name, []).append(value)
    return SearchQuery(q=q or "", filters=by_field, year_from=year_from, year_to=year_to,
                       facets=facets, limit=limit, offset=offset)


def run_search(settings: Settings, query: Any) -> dict[str, Any]:
    from indexer import IndexingError

    from harvester.relay import open_index

    try:
        backend = open_index(settings.search)
        try:
            return backend.search(query)
        finally:
            backend.close()
    except IndexingError as exc:
        raise SearchIndexError(f"search failed: {exc}") from exc
