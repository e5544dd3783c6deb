"""``/oai``: the aggregate re-exposed over OAI-PMH 2.0 by the project's one provider.

The protocol (verbs, errors, stateless tokens) is ``harvester.provider.protocol``; this
module only turns an HTTP request into its arguments (GET query, or an
``application/x-www-form-urlencoded`` POST body, spec 3.1.1) and wires the
:class:`StoreRepository` and the persisted token key.
"""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from importlib import resources as package_files
from urllib.parse import parse_qs

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from harvester.provider import handle
from harvester.service.oai_repository import StoreRepository
from harvester.service.resources import Resources
from mappings.dissemination import ICH_SCHEMA_FILE

PAGE_SIZE = 100
# Lists answer as of this long ago, and responseDate says so: a change stamped by a crosswalk
# batch that had not committed yet is then never skipped by an incremental harvester whose
# next `from` is this responseDate (less one second).
VISIBILITY_LAG = timedelta(seconds=30)
MAX_BODY = 64 * 1024  # OAI-PMH arguments are short; a huge body is not a request

router = APIRouter(tags=["oai-pmh"])


def _request_base_url(request: Request) -> str:
    return str(request.url.replace(query="", fragment="")).rstrip("/")


def _answer(res: Resources, params: dict[str, list[str]], request_url: str,
            page_size: int, lag: timedelta = VISIBILITY_LAG) -> Response:
    settings = res.settings
    as_of = datetime.now(timezone.utc) - lag
    repository = StoreRepository(res.engine, settings, base_url=request_url, visible_until=as_of)
    answer = handle(params, repository, page_size=page_size, token_secret=res.oai_token_key(),
                    base_url=repository.base_url, now=lambda: as_of)
    return Response(content=answer.body, status_code=answer.status, media_type=answer.content_type)


@router.get("/oai", summary="OAI-PMH 2.0 (GET)", response_class=Response)
async def oai_get(request: Request) -> Response:
    params = parse_qs(request.url.query, keep_blank_values=True)
    return await run_in_threadpool(_answer, request.app.state.resources, params,
                                   _request_base_url(request), request.app.state.oai_page_size,
                                   request.app.state.oai_visibility_lag)


@router.post("/oai", summary="OAI-PMH 2.0 (POST form)", response_class=Response)
async def oai_post(request: Request) -> Response:
    body = await request.body()
    if len(body) > MAX_BODY:
        return Response("request body too large", status_code=413, media_type="text/plain")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        text = ""  # no arguments at all: the protocol answers badVerb
    params = parse_qs(text, keep_blank_values=True)
    return await run_in_threadpool(_answer, request.app.state.resources, params,
                                   _request_base_url(request), request.app.state.oai_page_size,
                                   request.app.state.oai_visibility_lag)


@router.get(f"/oai/{ICH_SCHEMA_FILE}", summary="XML Schema of the ich metadata format",
            response_class=Response)
def ich_schema() -> Response:
    text = package_files.files("harvester.service").joinpath("static", ICH_SCHEMA_FILE).read_bytes()
    return Response(content=text, media_type="application/xml")
