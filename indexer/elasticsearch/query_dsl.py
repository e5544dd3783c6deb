"""SearchRequest -> Elasticsearch query DSL, and the response back into the contract.

User text only ever reaches Elasticsearch as the ``query`` *value* of a
``multi_match`` (which analyses it and parses no syntax); there is no
``query_string`` anywhere, so nothing a user types can become DSL or Lucene
syntax.  Semantics mirror the embedded backend (see ``SearchQuery``).
"""

from __future__ import annotations

from typing import Any

from ..contract import FACET_FIELDS
from ..search_document import field_config
from ..search_request import SearchRequest, empty_facets, ordered_counts
from ..snippets import leading_snippet
from .definition import highlight_fields, search_fields, text_field

_SNIPPET_GROUPS = ("description", "title")
_SOURCE = ["id", "title", "category", "countries", "source", text_field("title"),
           text_field("description")]


def _text_clauses(request: SearchRequest) -> list[dict[str, Any]]:
    fields = search_fields()
    clauses: list[dict[str, Any]] = [
        {"multi_match": {"query": word, "type": "best_fields", "operator": "and", "fields": fields}}
        for word in request.terms.words
    ]
    clauses += [
        {"multi_match": {"query": " ".join(phrase), "type": "phrase", "fields": fields}}
        for phrase in request.terms.phrases
    ]
    return clauses


def _filters(request: SearchRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"terms": {name: list(values)}} for name, values in request.filters.items()]
    if request.year_from is not None:
        out.append({"range": {"year_max": {"gte": request.year_from}}})
    if request.year_to is not None:
        out.append({"range": {"year_min": {"lte": request.year_to}}})
    return out


def search_body(request: SearchRequest) -> dict[str, Any]:
    """The ``_search`` body for one request."""
    config = field_config()
    clauses = _text_clauses(request)
    body: dict[str, Any] = {
        "query": {"bool": {"must": clauses or [{"match_all": {}}], "filter": _filters(request)}},
        "from": request.offset,
        "size": request.limit,
        "track_total_hits": True,
        "_source": _SOURCE,
        # No text: every hit scores the same, so list by id for stable paging (as embedded).
        "sort": [{"_score": {"order": "desc"}}, {"id": {"order": "asc"}}] if clauses
        else [{"id": {"order": "asc"}}],
    }
    if clauses:
        body["highlight"] = {
            "pre_tags": ["<b>"],
            "post_tags": ["</b>"],
            "encoder": "html",
            "require_field_match": True,
            "fragment_size": config.snippet_chars,
            "number_of_fragments": 1,
            "fields": {name: {} for name in highlight_fields(_SNIPPET_GROUPS)},
        }
    if request.facets:
        body["aggs"] = {name: {"terms": {"field": name, "size": config.facet_size}}
                        for name in FACET_FIELDS}
    return body


def _first(values: Any) -> Any:
    if isinstance(values, list):
        return values[0] if values else None
    return values


def _as_list(values: Any) -> list[Any]:
    if values is None:
        return []
    return list(values) if isinstance(values, list) else [values]


def search_result(response: dict[str, Any], request: SearchRequest) -> dict[str, Any]:
    """The contract's result dict from an Elasticsearch ``_search`` response."""
    config = field_config()
    scored = bool(request.terms.words or request.terms.phrases)
    preferred = highlight_fields(_SNIPPET_GROUPS)
    results = []
    for hit in response.get("hits", {}).get("hits", []):
        source = hit.get("_source", {})
        highlight = hit.get("highlight", {})
        snippet = next((highlight[name][0] for name in preferred if highlight.get(name)), None)
        if snippet is None:
            snippet = leading_snippet(_as_list(source.get(text_field("description"))),
                                      _as_list(source.get(text_field("title"))), config.snippet_chars)
        score = hit.get("_score")
        results.append({
            "id": source.get("id", hit.get("_id")),
            "title": source.get("title"),
            "category": _first(source.get("category")),
            "countries": _as_list(source.get("countries")),
            "source": _first(source.get("source")),
            "snippet": snippet,
            "score": float(score) if scored and score is not None else 1.0,
        })
    total = response.get("hits", {}).get("total", {})
    facets = empty_facets()
    if request.facets:
        aggs = response.get("aggregations", {})
        facets = {name: ordered_counts([(str(b["key"]), int(b["doc_count"]))
                                        for b in aggs.get(name, {}).get("buckets", [])],
                                       config.facet_size)
                  for name in FACET_FIELDS}
    return {"total": int(total.get("value", 0) if isinstance(total, dict) else total),
            "results": results, "facets": facets}
