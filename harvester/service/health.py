"""``/healthz`` for load balancers and ``/metrics`` for Prometheus.

Health means "can answer": the store is reachable and the search index is readable.
Either failing is a 503 with the reason, so an orchestrator can restart or route away.
"""

from __future__ import annotations

import logging
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from sqlalchemy import text

from harvester.service.metrics import CONTENT_TYPE, render_metrics
from harvester.service.resources import Resources

log = logging.getLogger("ichlinks.service")

router = APIRouter(tags=["operations"])


def _short(exc: BaseException) -> str:
    return f"{type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}"[:300]


def health(res: Resources) -> tuple[bool, dict[str, Any]]:
    report: dict[str, Any] = {}
    try:
        with res.engine.connect() as conn:
            conn.execute(text("SELECT 1"))
        report["store"] = {"ok": True}
    except Exception as exc:
        report["store"] = {"ok": False, "error": _short(exc)}
    try:
        report["index"] = {"ok": True, "doc_count": int(res.backend.count())}
    except Exception as exc:
        report["index"] = {"ok": False, "error": _short(exc)}
    ok = report["store"]["ok"] and report["index"]["ok"]
    report["status"] = "ok" if ok else "unavailable"
    return ok, report


@router.get("/healthz", summary="Store and index reachable?")
def healthz(request: Request) -> JSONResponse:
    ok, report = health(request.app.state.resources)
    return JSONResponse(report, status_code=200 if ok else 503)


@router.get("/metrics", summary="Prometheus metrics", response_class=Response)
def metrics(request: Request) -> Response:
    res: Resources = request.app.state.resources
    try:
        body = render_metrics(res.settings, res.engine)
    except Exception:
        log.exception("metrics: the store cannot be read")
        return Response("# the store cannot be read\n", status_code=503, media_type=CONTENT_TYPE)
    return Response(body, media_type=CONTENT_TYPE)
