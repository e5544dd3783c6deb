"""Operating the service: /healthz, /metrics, the token-guarded harvest trigger, ``ichlinks serve``."""

from __future__ import annotations

import logging
import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import httpx
import pytest
from oai_fixtures import make_records
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session
from test_service_support import (Aggregate, TestClient, aggregate, client_for,  # noqa: F401
                                  corpus)

from harvester.config import Partner, ServiceConfig, SourceConfig
from harvester.service import create_app
from harvester.service.metrics import _labels
from harvester.store.checkpoints import start_run, update_run, utcnow
from harvester.store.models import IchRecord, Outbox, RawRecord

TOKEN = "s3cret-Token-for-tests"
SAMPLE = re.compile(r'^([a-z_]+)(\{[^}]*\})? (\S+)$')


def metric_samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    out = {}
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE.match(line)
        assert match, line
        labels = frozenset(re.findall(r'(\w+)="((?:[^"\\]|\\.)*)"', match.group(2) or ""))
        out[(match.group(1), labels)] = float(match.group(3))
    return out


def test_healthz_reports_store_and_index(aggregate: Aggregate) -> None:
    response = client_for(aggregate).get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok" and body["store"]["ok"] and body["index"]["ok"]
    assert body["index"]["doc_count"] == len(corpus())


def test_healthz_is_503_when_the_store_is_unreachable(aggregate: Aggregate, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    dead = create_engine(f"sqlite:///{tmp_path}/missing-dir/none.db")
    client = TestClient(create_app(aggregate.settings, engine=dead, backend=aggregate.backend))
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json()["store"]["ok"] is False and response.json()["index"]["ok"] is True


def test_metrics_count_records_runs_backlog_and_last_success(aggregate: Aggregate) -> None:
    key = {r["oai"]["identifier"].rsplit(":", 1)[1]: r for r in corpus()}
    aggregate.delete(key["pansori"]["id"])
    aggregate.put(key["ca-tru"], quarantined=True)
    with Session(aggregate.engine) as s, s.begin():
        for status in ("ok", "ok", "failed"):
            run = start_run(s, "vn-vicas", "incremental")
            update_run(s, run, status=status, ended_at=utcnow())
    response = client_for(aggregate).get("/metrics")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    samples = metric_samples(response.text)
    with Session(aggregate.engine) as s:
        rows = list(s.scalars(select(IchRecord)))
        backlog = s.scalar(select(func.count()).select_from(Outbox))
    for source in ("kr-ichcap", "vn-vicas"):
        mine = [r for r in rows if r.source == source]
        expected = {"live": sum(not r.deleted for r in mine), "deleted": sum(r.deleted for r in mine),
                    "published": sum(not r.deleted and not r.quarantined for r in mine),
                    "quarantined": sum(r.quarantined and not r.deleted for r in mine)}
        for state, n in expected.items():
            assert samples[("ichlinks_records", frozenset({("source", source), ("state", state)}))] == n
    assert samples[("ichlinks_harvest_runs_total", frozenset({("source", "vn-vicas"), ("status", "ok")}))] == 2
    assert samples[("ichlinks_harvest_runs_total",
                    frozenset({("source", "vn-vicas"), ("status", "failed")}))] == 1
    assert samples[("ichlinks_outbox_backlog", frozenset())] == backlog > 0
    last = samples[("ichlinks_last_success_timestamp_seconds", frozenset({("source", "vn-vicas")}))]
    assert abs(last - time.time()) < 600
    assert not any(name == "ichlinks_last_success_timestamp_seconds" and ("source", "kr-ichcap") in labels
                   for name, labels in samples)
    for family in ("ichlinks_records gauge", "ichlinks_harvest_runs_total counter",
                   "ichlinks_outbox_backlog gauge", "ichlinks_last_success_timestamp_seconds gauge"):
        assert f"# TYPE {family}" in response.text


def test_overdue_sources_in_metrics_and_api_sources(aggregate: Aggregate) -> None:
    from datetime import timedelta

    from harvester.config import Schedule
    from harvester.store.models import HarvestRun

    sources = dict(aggregate.settings.sources)
    sources["vn-vicas"] = replace(sources["vn-vicas"], schedule=Schedule(interval_s=60, jitter_s=0))
    sources["kr-ichcap"] = replace(sources["kr-ichcap"], schedule=Schedule(cron="0 2 * * *"))
    settings = replace(aggregate.settings, sources=MappingProxyType(sources))
    with Session(aggregate.engine) as s, s.begin():
        run = start_run(s, "vn-vicas", "incremental")  # failed an hour ago, nothing since
        update_run(s, run, status="failed", ended_at=utcnow())
        s.get(HarvestRun, run).started_at = utcnow() - timedelta(hours=1)
    client = TestClient(create_app(settings, engine=aggregate.engine, backend=aggregate.backend))

    def overdue_gauges() -> dict[str, float]:
        return {dict(labels)["source"]: value for (name, labels), value
                in metric_samples(client.get("/metrics").text).items() if name == "ichlinks_source_overdue"}

    assert overdue_gauges() == {"kr-ichcap": 0, "vn-vicas": 1}  # kr-ichcap never ran: new
    rows = {row["source"]: row for row in client.get("/api/sources").json()}
    assert rows["vn-vicas"]["overdue"].startswith("never harvested successfully")
    assert rows["kr-ichcap"]["overdue"] is None
    with Session(aggregate.engine) as s, s.begin():
        update_run(s, start_run(s, "vn-vicas", "incremental"), status="ok", ended_at=utcnow())
    assert overdue_gauges() == {"kr-ichcap": 0, "vn-vicas": 0}
    assert {row["source"]: row["overdue"] for row in client.get("/api/sources").json()} == {
        "kr-ichcap": None, "vn-vicas": None}


def test_metric_labels_are_escaped() -> None:
    assert _labels({"source": 'a"b\\c\nd'}) == '{source="a\\"b\\\\c\\nd"}'


# -- the harvest trigger --------------------------------------------------------------------------

def test_without_a_token_the_write_route_does_not_exist(aggregate: Aggregate) -> None:
    client = client_for(aggregate)
    response = client.post("/api/harvest/vn-vicas", headers={"Authorization": f"Bearer {TOKEN}"})
    assert response.status_code == 404 and response.json()["detail"]
    assert "/api/harvest/{source}" not in client.get("/openapi.json").json()["paths"]


def test_trigger_refuses_missing_or_wrong_tokens(aggregate: Aggregate) -> None:
    started: list[str] = []
    settings = replace(aggregate.settings, service=ServiceConfig(token=TOKEN))
    client = TestClient(create_app(settings, engine=aggregate.engine, backend=aggregate.backend,
                                   harvest_job=lambda _s, names: started.extend(names)))
    for headers in ({}, {"Authorization": "Bearer wrong"}, {"Authorization": TOKEN},
                    {"Authorization": f"Basic {TOKEN}"}, {"Authorization": f"Bearer {TOKEN}x"},
                    {"Authorization": f"Bearer {TOKEN[:-1]}"}):
        response = client.post("/api/harvest/vn-vicas", headers=headers)
        assert response.status_code == 401, headers
        assert response.headers["www-authenticate"] == "Bearer"
    assert client.post("/api/harvest/nope", headers={"Authorization": f"Bearer {TOKEN}"}).status_code == 404
    ok = client.post("/api/harvest/vn-vicas", headers={"Authorization": f"bearer {TOKEN}"})
    assert ok.status_code == 202 and ok.json()["source"] == "vn-vicas"
    client.app.state.harvests.wait("vn-vicas", 10)
    assert started == ["vn-vicas"]
    assert "/api/harvest/{source}" in client.get("/openapi.json").json()["paths"]


def test_a_running_harvest_is_not_started_twice(aggregate: Aggregate) -> None:
    release = threading.Event()
    settings = replace(aggregate.settings, service=ServiceConfig(token=TOKEN))
    client = TestClient(create_app(settings, engine=aggregate.engine, backend=aggregate.backend,
                                   harvest_job=lambda _s, _n: release.wait(10)))
    auth = {"Authorization": f"Bearer {TOKEN}"}
    assert client.post("/api/harvest/kr-ichcap", headers=auth).status_code == 202
    assert client.post("/api/harvest/kr-ichcap", headers=auth).status_code == 409
    release.set()
    client.app.state.harvests.wait("kr-ichcap", 10)
    assert client.post("/api/harvest/kr-ichcap", headers=auth).status_code == 202
    client.app.state.harvests.wait("kr-ichcap", 10)


def test_trigger_runs_the_real_pipeline_and_never_logs_the_token(
        aggregate: Aggregate, oai_server: Any, caplog: pytest.LogCaptureFixture) -> None:
    server = oai_server(make_records(7), page_size=3)
    partner = SourceConfig(name="partner", url=server.base_url, retries=1, max_backoff_s=0.05,
                           timeout_s=10.0, partner=Partner(name="Test partner", country="MN"))
    settings = replace(aggregate.settings, service=ServiceConfig(token=TOKEN),
                       sources=MappingProxyType({**aggregate.settings.sources, "partner": partner}))
    client = TestClient(create_app(settings, engine=aggregate.engine, backend=aggregate.backend))
    with caplog.at_level(logging.DEBUG):
        response = client.post("/api/harvest/partner", headers={"Authorization": f"Bearer {TOKEN}"})
        assert response.status_code == 202
        client.app.state.harvests.wait("partner", 60)
    with Session(aggregate.engine) as s:
        raw = s.scalars(select(RawRecord.identifier).where(RawRecord.source == "partner")).all()
        mapped = s.scalars(select(IchRecord.id).where(IchRecord.source == "partner")).all()
    assert len(raw) == 7 and len(mapped) == 7
    sources = {row["source"]: row for row in client.get("/api/sources").json()}
    assert sources["partner"]["last_harvest"]["status"] == "ok"
    assert sources["partner"]["records"]["published"] == 7
    assert all(TOKEN not in record.getMessage() for record in caplog.records)


# -- the command ------------------------------------------------------------------------------------

def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_ichlinks_serve_command(store: Engine, tmp_path: Path) -> None:
    config = tmp_path / "ichlinks.yaml"
    config.write_text(f"store: {store.url.render_as_string(hide_password=False)}\n"
                      f"search: {{backend: embedded, path: {tmp_path / 'index'}}}\n"
                      "service: {repository_name: Served by the CLI}\n", encoding="utf-8")
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ICHLINKS_")}
    command = [sys.executable, "-c", "from harvester.cli import main; main()",
               "--config", str(config), "serve", "--port", str(port)]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               cwd=tmp_path)
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                response = httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2)
                break
            except httpx.TransportError:
                assert process.poll() is None, process.stdout.read().decode()  # type: ignore[union-attr]
                assert time.monotonic() < deadline, "ichlinks serve did not start"
                time.sleep(0.2)
        assert response.status_code == 200 and response.json()["index"]["doc_count"] == 0
        identify = httpx.get(f"http://127.0.0.1:{port}/oai?verb=Identify", timeout=5)
        assert "<repositoryName>Served by the CLI</repositoryName>" in identify.text
        assert response.headers.get("server") is None
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()  # type: ignore[union-attr]
