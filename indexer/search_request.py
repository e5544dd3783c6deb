"""Validate and normalise a SearchQuery once, the same way for every backend."""

from __future__ import annotations

from dataclasses import dataclass

from .contract import FACET_FIELDS, MAX_LIMIT, MAX_WINDOW, SearchQuery
from .errors import InvalidSearch
from .query_text import QueryTerms, parse_user_text


@dataclass(frozen=True)
class SearchRequest:
    terms: QueryTerms
    filters: dict[str, tuple[str, ...]]     # only non-empty value lists
    year_from: int | None
    year_to: int | None
    facets: bool
    limit: int                              # 0..MAX_LIMIT, and offset + limit <= MAX_WINDOW
    offset: int

    @property
    def impossible(self) -> bool:
        """True when nothing can match, whatever the index holds."""
        return (self.year_from is not None and self.year_to is not None
                and self.year_from > self.year_to)


def _as_int(value: object, name: str) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidSearch(f"{name} must be an integer or None, not {value!r}")
    return value


def search_request(query: SearchQuery) -> SearchRequest:
    """Raises ``InvalidSearch`` only for programming errors (unknown filter field, non-int bounds)."""
    filters: dict[str, tuple[str, ...]] = {}
    for name, values in (query.filters or {}).items():
        if name not in FACET_FIELDS:
            raise InvalidSearch(f"unknown filter field {name!r}; expected one of {', '.join(FACET_FIELDS)}")
        if isinstance(values, str):
            values = [values]
        cleaned = tuple(dict.fromkeys(str(v) for v in values if v is not None and str(v) != ""))
        if cleaned:
            filters[name] = cleaned
    limit = _as_int(query.limit, "limit") or 0
    offset = _as_int(query.offset, "offset") or 0
    offset = min(max(0, offset), MAX_WINDOW)
    limit = min(max(0, limit), MAX_LIMIT, MAX_WINDOW - offset)
    return SearchRequest(
        terms=parse_user_text(query.q if isinstance(query.q, str) else str(query.q or "")),
        filters=filters,
        year_from=_as_int(query.year_from, "year_from"),
        year_to=_as_int(query.year_to, "year_to"),
        facets=bool(query.facets),
        limit=limit,
        offset=offset,
    )


def empty_facets() -> dict[str, dict[str, int]]:
    return {name: {} for name in FACET_FIELDS}


def ordered_counts(pairs: list[tuple[str, int]], size: int) -> dict[str, int]:
    """Most frequent first, ties by value, so both engines list facets identically."""
    return dict(sorted(((k, n) for k, n in pairs if n > 0), key=lambda kv: (-kv[1], kv[0]))[:size])
