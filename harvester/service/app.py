"""``create_app``: the FastAPI application of ``ichlinks serve``.

Read-only by default: search, records, sources, the OAI-PMH feed, the web page, health
and metrics.  The one write (start a harvest) exists only when ``service.token`` is set.
Building the app does no I/O; the store and the index are opened on first use.
"""

from __future__ import annotations

from datetime import timedelta

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from importlib import resources as package_files
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from starlette.exceptions import HTTPException as StarletteHTTPException

from harvester.config import Settings
from harvester.service import api, health, oai_endpoint, web
from harvester.service.harvest_trigger import HarvestJob, HarvestLauncher, harvest_router
from harvester.service.resources import Resources
from harvester.service.security import SecurityHeaders


def create_app(settings: Settings, engine: Engine | None = None, backend: Any | None = None, *,
               harvest_job: HarvestJob | None = None,
               oai_page_size: int = oai_endpoint.PAGE_SIZE,
               oai_visibility_lag_s: float = oai_endpoint.VISIBILITY_LAG.total_seconds()) -> FastAPI:
    """The service over ``settings``; ``engine``/``backend`` are used as given (and not closed).

    ``harvest_job(settings, [source])`` replaces ``harvester.pipeline.run_harvest`` behind
    ``POST /api/harvest/{source}`` (for embedding; the default is the real pipeline);
    ``oai_page_size`` is the number of records or headers per OAI-PMH list response.
    """
    if oai_page_size < 1:
        raise ValueError("oai_page_size must be at least 1")
    resources = Resources(settings, engine=engine, backend=backend)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        yield
        resources.close()

    app = FastAPI(title="ichLinks", version="1.0",
                  description="Search, records and OAI-PMH re-exposure of the ichLinks aggregate of "
                              "intangible cultural heritage records.",
                  docs_url=None, redoc_url=None, lifespan=lifespan)
    app.state.resources = resources
    app.state.oai_page_size = oai_page_size
    app.state.oai_visibility_lag = timedelta(seconds=oai_visibility_lag_s)
    app.add_middleware(SecurityHeaders)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(_request: Request, exc: RequestValidationError) -> JSONResponse:
        # FastAPI's own 422 body, minus the echoed input (it may be huge or hostile).
        details = [{key: value for key, value in error.items() if key in ("loc", "msg", "type")}
                   for error in exc.errors()]
        return JSONResponse({"detail": details}, status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(_request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return JSONResponse({"detail": exc.detail}, status_code=exc.status_code,
                            headers=getattr(exc, "headers", None))

    app.include_router(api.router)
    app.include_router(oai_endpoint.router)
    app.include_router(health.router)
    if settings.service.token:
        launcher = (HarvestLauncher(settings, harvest_job) if harvest_job is not None
                    else HarvestLauncher(settings))
        app.state.harvests = launcher
        app.include_router(harvest_router(settings, launcher))
    app.include_router(web.router)
    static = package_files.files("harvester.service").joinpath("static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    return app
