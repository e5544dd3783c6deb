"""SearchRequest -> tantivy queries, built from terms, never from a query parser."""

from __future__ import annotations

import tantivy

from ..search_document import field_config
from ..search_request import SearchRequest
from .analysis import layout, query_tokens

Occur = tantivy.Occur
Query = tantivy.Query


def _all_of(queries: list[Query]) -> Query:
    return queries[0] if len(queries) == 1 else Query.boolean_query([(Occur.Must, q) for q in queries])


def _field_query(field: str, tokens: list[str], phrase: bool) -> Query:
    schema = layout().schema
    if len(tokens) == 1:
        return Query.term_query(schema, field, tokens[0])
    if phrase:
        return Query.phrase_query(schema, field, tokens)
    return _all_of([Query.term_query(schema, field, t) for t in tokens])


def _term_clause(text: str, phrase: bool) -> Query:
    """Best match of ``text`` over every text field and form; nothing matches if no form yields a term.

    Like Elasticsearch's ``multi_match`` (best_fields, operator and): within one
    field all of the text's tokens must occur.
    """
    config = field_config()
    alternatives = []
    for group, form, field in layout().text_fields:
        tokens = query_tokens(form, text)
        if not tokens:
            continue
        boost = config.group_boosts[group] * config.form_boosts[form]
        alternatives.append(Query.boost_query(_field_query(field, tokens, phrase), boost))
    if not alternatives:
        return Query.empty_query()
    return Query.disjunction_max_query(alternatives)


def text_query(request: SearchRequest) -> Query | None:
    """The scoring part: every word and every phrase must match; ``None`` for no text."""
    clauses = [_term_clause(w, phrase=False) for w in request.terms.words]
    clauses += [_term_clause(" ".join(p), phrase=True) for p in request.terms.phrases]
    return _all_of(clauses) if clauses else None


def filter_query(request: SearchRequest) -> Query:
    """Live documents matching every filter and the year range; scores nothing."""
    schema = layout().schema
    parts = [Query.term_query(schema, "live", 1)]
    for name, values in request.filters.items():
        parts.append(Query.term_set_query(schema, name, list(values)))
    if request.year_from is not None:
        parts.append(Query.range_query(schema, "year_max", tantivy.FieldType.Integer,
                                       lower_bound=request.year_from))
    if request.year_to is not None:
        parts.append(Query.range_query(schema, "year_min", tantivy.FieldType.Integer,
                                       upper_bound=request.year_to))
    return Query.const_score_query(_all_of(parts), 0.0)


def full_query(request: SearchRequest) -> tuple[Query, Query | None]:
    """(query to run, text-only query for snippets or ``None``)."""
    text = text_query(request)
    filters = filter_query(request)
    if text is None:
        return Query.boolean_query([(Occur.Must, Query.all_query()), (Occur.Must, filters)]), None
    return Query.boolean_query([(Occur.Must, text), (Occur.Must, filters)]), text
