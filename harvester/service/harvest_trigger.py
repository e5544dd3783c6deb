"""``POST /api/harvest/{source}``: the service's only write, and only with a token.

The route exists only when ``service.token`` is configured (otherwise 404, like any
unknown path).  The token is compared in constant time and never logged.  The harvest
itself is ``harvester.pipeline.run_harvest`` — the same job as ``ichlinks harvest`` and
the scheduler — run in a background thread; one per source at a time in this process
(the store's checkpoints keep concurrent processes exact).
"""

from __future__ import annotations

import hmac
import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import APIRouter, Header, HTTPException, Request
from fastapi.responses import JSONResponse

from harvester.config import Settings

log = logging.getLogger("ichlinks.service")

HarvestJob = Callable[[Settings, Sequence[str]], Any]


def _run_pipeline(settings: Settings, names: Sequence[str]) -> Any:
    from harvester.pipeline import run_harvest

    return run_harvest(settings, list(names))


class HarvestLauncher:
    """Starts background harvests and remembers which sources are running."""

    def __init__(self, settings: Settings, job: HarvestJob = _run_pipeline) -> None:
        self.settings = settings
        self.job = job
        self._running: dict[str, threading.Thread] = {}
        self._lock = threading.Lock()

    def start(self, source: str) -> bool:
        """False when a harvest of the source started here is still running."""
        with self._lock:
            current = self._running.get(source)
            if current is not None and current.is_alive():
                return False
            thread = threading.Thread(target=self._run, args=(source,), daemon=True,
                                      name=f"ichlinks-harvest-{source}")
            self._running[source] = thread
            thread.start()
            return True

    def _run(self, source: str) -> None:
        try:
            results = self.job(self.settings, [source])
            for result in results or ():
                log.info("requested harvest of %s ended %s", source, getattr(result, "status", "?"))
        except Exception:
            log.exception("requested harvest of %s failed", source)

    def wait(self, source: str, timeout: float | None = None) -> None:
        """For tests and shutdown: wait for the source's harvest thread to end."""
        with self._lock:
            thread = self._running.get(source)
        if thread is not None:
            thread.join(timeout)


def harvest_router(settings: Settings, launcher: HarvestLauncher) -> APIRouter:
    """The write route; call only when ``service.token`` is configured."""
    token = settings.service.token
    if not token:
        raise ValueError("the harvest route needs service.token")
    expected = token.encode("utf-8")
    router = APIRouter(prefix="/api", tags=["write"])

    @router.post("/harvest/{source}", status_code=202, summary="Start a harvest of one source",
                 responses={401: {"description": "missing or wrong bearer token"},
                            404: {"description": "no such source"},
                            409: {"description": "already running"}})
    def start_harvest(request: Request, source: str,
                      authorization: str | None = Header(default=None)) -> JSONResponse:
        scheme, _, given = (authorization or "").strip().partition(" ")
        # Always run the comparison, so a wrong scheme costs as long as a wrong token.
        matches = hmac.compare_digest(given.strip().encode("utf-8"), expected)
        if not (matches and scheme.lower() == "bearer"):
            raise HTTPException(401, "a valid 'Authorization: Bearer <token>' header is required",
                                headers={"WWW-Authenticate": "Bearer"})
        if source not in settings.sources:
            raise HTTPException(404, f"no configured source {source!r}")
        if not launcher.start(source):
            raise HTTPException(409, f"a harvest of {source} is already running")
        return JSONResponse(status_code=202, content={
            "source": source, "status": "started",
            "progress": str(request.url_for("api_sources"))})

    return router
