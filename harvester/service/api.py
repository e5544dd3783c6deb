"""The JSON API: ``/api/search``, ``/api/records/{id}``, ``/api/sources``.

``/api/search`` answers exactly what ``backend.search()`` returns (the
``ichlinks search --json`` contract), so the API, the CLI and the web page can never
drift apart.  Input is validated before it reaches the index: a bad number is a 422
with a JSON body, a filter value nobody has is simply no match, and an index that is
down is a 503 — never a stack trace.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request
from fastapi.responses import JSONResponse

from harvester.service.aggregate import source_summaries, stored_record
from harvester.service.resources import Resources

log = logging.getLogger("ichlinks.service")

MAX_QUERY_CHARS = 500
MAX_FILTER_VALUES = 50
MAX_FILTER_CHARS = 200
MAX_OFFSET = 10_000
MAX_LIMIT = 100

router = APIRouter(prefix="/api", tags=["api"])

FilterValues = Annotated[list[str] | None, Query(description="Repeat to OR several values.")]


def resources(request: Request) -> Resources:
    return request.app.state.resources  # type: ignore[no-any-return]


def checked_filters(filters: dict[str, list[str] | None]) -> dict[str, list[str]]:
    """Drop empty fields; refuse absurd input (too many or too long values) with a 422."""
    out: dict[str, list[str]] = {}
    for name, values in filters.items():
        if not values:
            continue
        if len(values) > MAX_FILTER_VALUES:
            raise HTTPException(422, f"{name}: at most {MAX_FILTER_VALUES} values")
        if any(len(v) > MAX_FILTER_CHARS for v in values):
            raise HTTPException(422, f"{name}: a value is longer than {MAX_FILTER_CHARS} characters")
        out[name] = values
    return out


def run_search(res: Resources, query: Any) -> dict[str, Any]:
    """``backend.search`` with engine trouble turned into a 503 (logged, not shown)."""
    from indexer import InvalidSearch

    try:
        return res.backend.search(query)  # type: ignore[no-any-return]
    except InvalidSearch as exc:
        raise HTTPException(422, str(exc)) from exc
    except Exception as exc:  # the index is a projection: its failure must not be a 500
        log.exception("search failed")
        raise HTTPException(503, "the search index is unavailable; try again later") from exc


@router.get("/search", summary="Search the ICH records")
def api_search(
    request: Request,
    q: Annotated[str, Query(max_length=MAX_QUERY_CHARS, description="Free text; \"quoted phrases\".")] = "",
    category: FilterValues = None,
    countries: FilterValues = None,
    ich_domains: FilterValues = None,
    source: FilterValues = None,
    languages: FilterValues = None,
    media_type: FilterValues = None,
    year_from: Annotated[int | None, Query(ge=-9999, le=9999)] = None,
    year_to: Annotated[int | None, Query(ge=-9999, le=9999)] = None,
    facets: bool = True,
    limit: Annotated[int, Query(ge=0, le=MAX_LIMIT)] = 20,
    offset: Annotated[int, Query(ge=0, le=MAX_OFFSET)] = 0,
) -> JSONResponse:
    """``{"total", "results": [{id, title, category, countries, source, snippet, score}],
    "facets": {field: {value: count}}}``; snippets are HTML-escaped text with ``<b>`` marks."""
    from indexer import SearchQuery

    filters = checked_filters({"category": category, "countries": countries,
                               "ich_domains": ich_domains, "source": source,
                               "languages": languages, "media_type": media_type})
    query = SearchQuery(q=q, filters=filters, year_from=year_from, year_to=year_to,
                        facets=facets, limit=limit, offset=offset)
    return JSONResponse(run_search(resources(request), query))


@router.get("/records/{record_id}", summary="One ICH record with provenance and diagnostics",
            responses={404: {"description": "unknown id"},
                       410: {"description": "deleted, or withheld from publication"}})
def api_record(request: Request, record_id: str) -> JSONResponse:
    """``{id, source, published, quarantined, deleted, version, changed_at, diagnostics,
    record}``; ``record`` is the ICH record (schema ``ichlinks schema``), provenance included."""
    row = stored_record(resources(request).engine, record_id) if len(record_id) <= 100 else None
    if row is None:
        raise HTTPException(404, f"no record {record_id}")
    if row.suppressed:  # the reason stays with the operator: it may say what is sensitive
        return JSONResponse(status_code=410, content={
            "detail": f"record {record_id} is withheld from publication", "id": row.id})
    if row.deleted:
        return JSONResponse(status_code=410, content={
            "detail": f"record {record_id} was deleted", "id": row.id,
            "deleted_at": row.as_json()["changed_at"]})
    return JSONResponse(row.as_json())


@router.get("/sources", summary="The configured sources with their last harvest and counts")
def api_sources(request: Request) -> JSONResponse:
    res = resources(request)
    return JSONResponse(source_summaries(res.settings, res.engine))
